#ifndef CATALYST_SRC_CORE_SESSION_DECODER_HPP
#define CATALYST_SRC_CORE_SESSION_DECODER_HPP

// The general reader of a created session's answer, the one `decode(json, session&)` falls
// back on when its scan for the usual flat answer gives up. Declared for the tests and the
// fuzzer, which hold the two readers against each other.

#include <catalyst/session.hpp>

#include <boost/system/error_code.hpp>

#include <string_view>

namespace catalyst::detail {

boost::system::error_code decode_session_general(std::string_view body, session& out);

}  // namespace catalyst::detail

#endif
