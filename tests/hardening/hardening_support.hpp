#ifndef CATALYST_TESTS_HARDENING_SUPPORT_HPP
#define CATALYST_TESTS_HARDENING_SUPPORT_HPP

// Helpers shared by the hardening tests.

#include <catalyst/client_params.hpp>
#include <catalyst/sandbox.hpp>
#include <catalyst/session_request.hpp>

#include <cstddef>
#include <string>

namespace catalyst::hardening {

/// Entries in /proc/self/fd (the descriptor used to list it excluded).
std::size_t open_fds();

/// Client settings pointing at `sb` over verified TLS (its CA trusted), key rk_test_123.
client_params client_params_for(const sandbox& sb);

/// A valid campaign-mode request (the default "allow" campaign) for `email`.
session_request campaign_request(const std::string& email, const std::string& first = "Fault",
                                 const std::string& last = "Matrix");

}  // namespace catalyst::hardening

#endif
