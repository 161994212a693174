// `catalyst-sandbox --health-check URL`: a container health check for images without curl.
// Plain sockets and OpenSSL's own blocking I/O: one GET, no Asio/Beast instantiated for it.

#include <catalyst/sandbox.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace catalyst {

namespace {

struct url_parts {
    bool tls = true;
    std::string host, port, path;
};

bool split_url(std::string_view url, url_parts& out, std::string& error) {
    if (url.starts_with("https://")) {
        out.tls = true;
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        out.tls = false;
        url.remove_prefix(7);
    } else {
        error = "the URL must start with http:// or https://";
        return false;
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unbalanced [ in the URL's host";
            return false;
        }
        out.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
    if (out.host.empty()) {
        error = "the URL has no host";
        return false;
    }
    return true;
}

struct fd_closer {
    int fd = -1;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
};

/// A connected socket whose reads and writes time out after `timeout`, or -1.
int connect_to(const url_parts& u, std::chrono::milliseconds timeout, std::string& error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0) {
        error = u.host + ":" + u.port + ": " + ::gai_strerror(rc);
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(res, &::freeaddrinfo);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    for (addrinfo* a = res; a; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        // On Linux SO_SNDTIMEO bounds connect() too.
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
        error = "connect " + u.host + ":" + u.port + ": " + std::strerror(errno);
        ::close(fd);
    }
    return -1;
}

}  // namespace

bool probe_sandbox_health(std::string_view url, std::chrono::milliseconds timeout, std::string& error) {
    url_parts u;
    if (!split_url(url, u, error)) return false;
    fd_closer sock{connect_to(u, timeout, error)};
    if (sock.fd < 0) return false;
    const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    const std::string request =
        "GET " + u.path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: catalyst-sandbox-health-check\r\nConnection: close\r\n\r\n";
    std::string reply;
    char buf[4096];
    if (u.tls) {
        std::unique_ptr<SSL_CTX, decltype(&::SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), &::SSL_CTX_free);
        if (!ctx) {
            error = "TLS setup failed";
            return false;
        }
        // A liveness probe of a server on this host: nothing secret is sent, so the
        // certificate is not verified (the sandbox's may be generated, its CA elsewhere).
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
        std::unique_ptr<SSL, decltype(&::SSL_free)> ssl(SSL_new(ctx.get()), &::SSL_free);
        if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) {
            error = "TLS setup failed";
            return false;
        }
        SSL_set_tlsext_host_name(ssl.get(), u.host.c_str());
        if (SSL_connect(ssl.get()) != 1) {
            char e[256];
            ERR_error_string_n(ERR_get_error(), e, sizeof e);
            error = "TLS handshake with " + host + ":" + u.port + " failed: " + e;
            return false;
        }
        if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
            error = "sending the request failed";
            return false;
        }
        for (int n; reply.size() < 64 * 1024 && (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;)
            reply.append(buf, static_cast<std::size_t>(n));
    } else {
        if (::send(sock.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
            error = std::string("sending the request failed: ") + std::strerror(errno);
            return false;
        }
        for (ssize_t n; reply.size() < 64 * 1024 && (n = ::recv(sock.fd, buf, sizeof buf, 0)) > 0;)
            reply.append(buf, static_cast<std::size_t>(n));
    }
    // "HTTP/1.1 200 OK"
    unsigned status = 0;
    const auto sp = reply.find(' ');
    if (reply.starts_with("HTTP/") && sp != std::string::npos)
        std::from_chars(reply.data() + sp + 1, reply.data() + std::min(reply.size(), sp + 4), status);
    if (status == 200) return true;
    error = status ? "answered " + std::to_string(status) : "no HTTP answer (timeout or closed)";
    return false;
}

}  // namespace catalyst
