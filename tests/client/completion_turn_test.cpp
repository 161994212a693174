// Where a call's completion handler runs after its answer. Where the client's handlers run on
// the thread that read the answer (the client's own thread; a caller's io_context made for one
// thread), in the answer's own handler: the next call of a chain then goes to the wire in that
// same handler, with no turn of the event loop (and no epoll poll) between. On a caller's
// io_context that several threads may run, from a post: a user's handler never runs inside the
// client's strand there.
//
// What shows it: the observer posts a marker to the handlers' executor when an attempt ends,
// from inside the handler that read the answer. A completion handler that runs before the
// marker ran in that same handler; one that runs after it came from a later post. A call
// goes first to open the connection (a first exchange may read its answer on another path).
#include "client_fixture.hpp"
#include "support/hostile_server.hpp"

#include <catalyst/observer.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace catalyst::test {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

struct marker_observer : client_observer {
    net::any_io_executor ex;  ///< set before the first call
    std::atomic<int> markers_posted{0};
    std::atomic<int> markers_run{0};
    std::atomic<int> pending_at_chain_start{-1};  ///< markers not yet run when the chain's second call started
    std::atomic<int> starts{0};

    int pending() const { return markers_posted.load() - markers_run.load(); }
    void on_attempt_start(const attempt_start_event&) override {
        if (++starts == 3) pending_at_chain_start = pending();
    }
    void on_attempt_end(const attempt_end_event&) override {
        ++markers_posted;
        net::post(ex, [this] { ++markers_run; });
    }
};

/// A call that opens the connection, then a chain of two calls on it: the first one's handler
/// starts the second. What each saw.
struct chain {
    std::atomic<int> pending_at_first_handler{-1};  ///< markers posted and not yet run
    std::atomic<bool> opened{false}, first_ok{false}, second_ok{false}, done{false};

    void start(client& c, marker_observer& obs) {
        c.async_create_session(valid_request("open@example.com"), [this, &c, &obs](error_code ec, session) {
            opened = !ec;
            // Posted: this handler may itself run in an answer's turn.
            net::post(c.get_executor(), [this, &c, &obs] { start_chain(c, obs); });
        });
    }

  private:
    void start_chain(client& c, marker_observer& obs) {
        c.async_create_session(valid_request("a@example.com"), [this, &c, &obs](error_code ec, session) {
            pending_at_first_handler = obs.pending();
            first_ok = !ec;
            c.async_create_session(valid_request("b@example.com"), [this](error_code ec2, session) {
                second_ok = !ec2;
                done = true;
            });
        });
    }
};

using marker_observer_ptr = std::shared_ptr<marker_observer>;

client_params observed(const hostile_server& server, const marker_observer_ptr& obs) {
    client_params p = params_for(server);
    p.observer = obs;
    return p;
}

/// The chain on a client of the caller's io_context `ctx`, run here until it is done (bounded:
/// 10 s).
void run_chain_on(net::io_context& ctx, const hostile_server& server, marker_observer_ptr obs, chain& ch) {
    obs->ex = ctx.get_executor();
    client c(ctx, observed(server, obs));
    ch.start(c, *obs);
    for (int i = 0; i < 1000 && !ch.done; ++i) ctx.run_for(10ms);
}

TEST(completion_turn, on_the_clients_own_thread_the_handler_and_the_next_request_follow_the_answer_at_once) {
    hostile_server server;
    auto obs = std::make_shared<marker_observer>();
    client c(observed(server, obs));
    obs->ex = c.get_executor();
    chain ch;
    ch.start(c, *obs);
    ASSERT_TRUE(eventually([&] { return ch.done.load(); }, 10s));
    EXPECT_TRUE(ch.opened && ch.first_ok && ch.second_ok);
    EXPECT_EQ(ch.pending_at_first_handler, 1) << "the first call's handler ran from a later turn of the event loop";
    EXPECT_EQ(obs->pending_at_chain_start, 1) << "the second call reached a connection in a later turn";
}

TEST(completion_turn, on_a_callers_io_context_for_one_thread_the_handler_and_the_next_request_follow_the_answer_at_once) {
    hostile_server server;
    net::io_context ctx(1);
    auto obs = std::make_shared<marker_observer>();
    chain ch;
    run_chain_on(ctx, server, obs, ch);
    ASSERT_TRUE(ch.done);
    EXPECT_TRUE(ch.opened && ch.first_ok && ch.second_ok);
    EXPECT_EQ(ch.pending_at_first_handler, 1) << "the first call's handler ran from a later turn of the event loop";
    EXPECT_EQ(obs->pending_at_chain_start, 1) << "the second call reached a connection in a later turn";
}

TEST(completion_turn, on_a_callers_io_context_that_threads_may_share_the_handler_is_posted) {
    hostile_server server;
    net::io_context ctx;  // the default hint: any number of threads may run it
    auto obs = std::make_shared<marker_observer>();
    chain ch;
    run_chain_on(ctx, server, obs, ch);
    ASSERT_TRUE(ch.done);
    EXPECT_TRUE(ch.opened && ch.first_ok && ch.second_ok);
    EXPECT_EQ(ch.pending_at_first_handler, 0) << "the handler ran inside the client's strand";
}

}  // namespace
}  // namespace catalyst::test
