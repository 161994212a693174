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

}  // namespace catalyst::hardening
