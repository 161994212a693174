// The one unit that compiles Asio (and its SSL part): every other unit sees
// BOOST_ASIO_SEPARATE_COMPILATION and only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
