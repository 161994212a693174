// The client against a sandbox whose idempotency keys expire, as a real API's do (typically
// after 24 h). The documented outcome (docs/sandbox.md, "Retention"): within the window a
// resend with the same key is replayed (`session::replayed`); after it, the server no longer
// knows the key and creates a second session, which the client reports as a new one
// (`replayed == false`, another token). The client cannot detect it: keeping resends inside
// the window is the caller's job (the batch tool's --key-retention).

#include "client/client_fixture.hpp"
#include "sandbox/sandbox_fixture.hpp"

#include <boost/asio/use_future.hpp>

using namespace catalyst;
using namespace catalyst::test;
using namespace std::chrono_literals;

namespace {

TEST_F(client_test, a_resend_after_the_key_expired_is_a_new_session_not_a_replay) {
    fake_clock clock;  // the sandbox's: the key expires when the test says, no sleep
    sandbox_params sp;
    sp.idempotency_ttl = 300ms;
    sp.clock = clock.source();
    start(sp);
    client c(params());
    request_options o;
    o.idempotency_key = "lead-42-of-campaign-x";
    auto create = [&] {
        return c.async_create_session(valid_request(), o, catalyst::cancel_after(10s, boost::asio::use_future)).get();
    };
    const session first = create();
    EXPECT_FALSE(first.replayed);
    const session again = create();
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.token, first.token);

    clock.advance(300ms);
    const session late = create();
    EXPECT_FALSE(late.replayed);
    EXPECT_NE(late.token, first.token);
    // The duplicate is real and visible on the server side.
    ASSERT_EQ(sb_->ledger().size(), 2u);
    EXPECT_EQ(sb_->ledger()[0].idempotency_key, o.idempotency_key);
    EXPECT_EQ(sb_->ledger()[1].idempotency_key, o.idempotency_key);
    EXPECT_EQ(sb_->stats().idempotency_expired, 1u);
}

}  // namespace
