#ifndef CATALYST_ERROR_WITH_DIAGNOSTICS_HPP
#define CATALYST_ERROR_WITH_DIAGNOSTICS_HPP

#include <catalyst/diagnostics.hpp>
#include <catalyst/export.hpp>
#include <catalyst/error.hpp>

#include <boost/system/system_error.hpp>

namespace catalyst {

/// The exception of a failed call when the caller asked for one (`with_diagnostics(token)`,
/// or `throw_on_error`): a `boost::system::system_error` carrying the call's `diagnostics`,
/// as Boost.MySQL's `error_with_diagnostics`. `code()` is the `catalyst::errc`; `what()`
/// includes the one-line summary of the diagnostics.
class CATALYST_DECL error_with_diagnostics : public boost::system::system_error {
public:
    error_with_diagnostics(boost::system::error_code ec, diagnostics diag)
        : boost::system::system_error(ec, diag.to_string()), diag_(std::move(diag)) {}
    const diagnostics& get_diagnostics() const noexcept { return diag_; }

private:
    diagnostics diag_;
};

/// Throws `error_with_diagnostics(ec, diag)` when `ec` is an error; does nothing otherwise.
inline void throw_on_error(boost::system::error_code ec, const diagnostics& diag) {
    if (ec) throw error_with_diagnostics(ec, diag);
}

}  // namespace catalyst

#endif
