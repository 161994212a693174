#include "hardening_support.hpp"

#include <dirent.h>

namespace catalyst::hardening {

std::size_t open_fds() {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return 0;
    std::size_t n = 0;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n - 1;  // the directory stream's own descriptor
}

client_params client_params_for(const sandbox& sb) {
    client_params p;
    p.base_url = sb.base_url();
    p.api_key = "rk_test_123";
    p.tls.ca_pem = sb.ca_pem();
    return p;
}

session_request campaign_request(const std::string& email, const std::string& first, const std::string& last) {
    session_request r;
    r.campaign_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
    r.lead.first_name = first;
    r.lead.last_name = last;
    r.lead.email = email;
    r.lead.country = "FR";
    return r;
}

}  // namespace catalyst::hardening
