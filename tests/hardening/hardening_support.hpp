#ifndef CATALYST_TESTS_HARDENING_SUPPORT_HPP
#define CATALYST_TESTS_HARDENING_SUPPORT_HPP

// What only the hardening tests need (the request and the client params they send come from
// tests/client/client_fixture.hpp, as for the client's own tests).

#include <cstddef>

namespace catalyst::hardening {

/// Entries in /proc/self/fd (the descriptor used to list it excluded).
std::size_t open_fds();

}  // namespace catalyst::hardening

#endif
