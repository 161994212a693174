#ifndef CATALYST_TESTS_SUPPORT_SOCKET_STATE_HPP
#define CATALYST_TESTS_SUPPORT_SOCKET_STATE_HPP

// What the kernel knows of a TCP socket, for tests that wait on what the other end has done
// (never on a sleep). Linux only, as the tests are.

#include <cstddef>

namespace catalyst::test {

/// Bytes received and not read yet on a socket (FIONREAD); 0 when closed.
std::size_t unread(int fd);
/// Bytes written to a socket that its peer has not acknowledged yet (SIOCOUTQ); 0 when closed.
/// On loopback, 0 means every byte written is in the peer's socket.
std::size_t unacknowledged(int fd);
/// The TCP state of a socket (TCP_INFO's tcpi_state: TCP_ESTABLISHED, TCP_CLOSE after a
/// reset from the peer, ...); -1 when it cannot be read.
int tcp_state(int fd);

}  // namespace catalyst::test

#endif
