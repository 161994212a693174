#include "sandbox/certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>

namespace catalyst::sandbox_detail {

namespace {

struct free_pkey { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct free_x509 { void operator()(X509* p) const { X509_free(p); } };
struct free_bio { void operator()(BIO* p) const { BIO_free(p); } };
struct free_ext { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, free_pkey>;
using x509_ptr = std::unique_ptr<X509, free_x509>;
using bio_ptr = std::unique_ptr<BIO, free_bio>;

[[noreturn]] void ssl_fail(const std::string& what) {
    char buf[256] = "unknown error";
    if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    throw std::runtime_error("certificate generation: " + what + ": " + buf);
}

pkey_ptr make_key() {
    pkey_ptr k(EVP_EC_gen("P-256"));
    if (!k) ssl_fail("EC P-256 key");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, free_ext> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) ssl_fail(std::string("extension ") + OBJ_nid2sn(nid));
}

x509_ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long days) {
    x509_ptr c(X509_new());
    if (!c) ssl_fail("X509_new");
    X509_set_version(c.get(), 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) ssl_fail("serial");
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()))) ssl_fail("serial");
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 24 * 3600);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("catalyst-sandbox"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509* iss = issuer ? issuer : c.get();
    add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
    add_ext(c.get(), iss, NID_authority_key_identifier, "keyid:always");
    if (!issuer) {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c.get(), iss, NID_key_usage, "critical,digitalSignature");
        add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth");
        add_ext(c.get(), iss, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
    }
    if (X509_sign(c.get(), issuer_key, EVP_sha256()) == 0) ssl_fail("sign");
    return c;
}

std::string to_pem(X509* c) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    if (!b || PEM_write_bio_X509(b.get(), c) != 1) ssl_fail("PEM certificate");
    char* data = nullptr;
    const long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* k) {
    bio_ptr b(BIO_new(BIO_s_mem()));
    if (!b || PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) != 1) ssl_fail("PEM key");
    char* data = nullptr;
    const long n = BIO_get_mem_data(b.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

x509_ptr parse_cert(const std::string& pem) {
    bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return x509_ptr(b ? PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr) : nullptr);
}

pkey_ptr parse_key(const std::string& pem) {
    bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return pkey_ptr(b ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr) : nullptr);
}

bool usable(const cert_bundle& b) {
    x509_ptr ca = parse_cert(b.ca_pem), cert = parse_cert(b.cert_pem);
    pkey_ptr key = parse_key(b.key_pem);
    bool ok = ca && cert && key;
    if (ok) {
        EVP_PKEY* ca_pub = X509_get0_pubkey(ca.get());
        time_t soon = time(nullptr) + 24 * 3600;
        ok = ca_pub && X509_verify(cert.get(), ca_pub) == 1 && X509_check_private_key(cert.get(), key.get()) == 1 &&
             X509_cmp_time(X509_get0_notAfter(cert.get()), &soon) > 0 &&
             X509_cmp_time(X509_get0_notAfter(ca.get()), &soon) > 0;
    }
    ERR_clear_error();
    return ok;
}

void write_file(const std::filesystem::path& p, const std::string& data, bool secret) {
    const auto tmp = p.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cert_dir: cannot write " + tmp + ": " + std::strerror(errno));
        if (secret) ::chmod(tmp.c_str(), 0600);
        out << data;
        if (!out.flush()) throw std::runtime_error("cert_dir: cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, p, ec);
    if (ec) throw std::runtime_error("cert_dir: cannot rename " + tmp + ": " + ec.message());
}

}  // namespace

std::string read_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string(what) + " " + path + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

cert_bundle generate_dev_certs() {
    pkey_ptr ca_key = make_key();
    x509_ptr ca = make_cert(ca_key.get(), "catalyst-sandbox development CA", nullptr, ca_key.get(), 3650);
    pkey_ptr key = make_key();
    x509_ptr cert = make_cert(key.get(), "localhost", ca.get(), ca_key.get(), 825);
    return {to_pem(ca.get()), to_pem(cert.get()), to_pem(key.get())};
}

cert_bundle load_or_generate_dev_certs(const std::string& dir, bool& generated) {
    namespace fs = std::filesystem;
    const fs::path d(dir);
    const auto ca = d / "ca.crt", crt = d / "server.crt", key = d / "server.key";
    std::error_code ec;
    if (fs::exists(ca, ec) && fs::exists(crt, ec) && fs::exists(key, ec)) {
        try {
            cert_bundle b{read_file(ca.string(), "cert_dir"), read_file(crt.string(), "cert_dir"),
                          read_file(key.string(), "cert_dir")};
            if (usable(b)) {
                generated = false;
                return b;
            }
        } catch (const std::runtime_error&) {
            // unreadable: regenerate below
        }
    }
    fs::create_directories(d, ec);
    if (ec) throw std::runtime_error("cert_dir " + dir + ": " + ec.message());
    cert_bundle b = generate_dev_certs();
    write_file(key, b.key_pem, true);
    write_file(crt, b.cert_pem, false);
    write_file(ca, b.ca_pem, false);
    generated = true;
    return b;
}

}  // namespace catalyst::sandbox_detail
