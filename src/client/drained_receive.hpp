#ifndef CATALYST_SRC_CLIENT_DRAINED_RECEIVE_HPP
#define CATALYST_SRC_CLIENT_DRAINED_RECEIVE_HPP

// A receive on a TCP socket that tells Asio's reactor when it left the socket drained, so
// that the next receive started on that socket costs no system call.
//
// Why: Asio (epoll reactor) tries a receive at once when it is started (a "speculative"
// recv) unless it knows the socket is empty, and it only knows that after a receive that
// returned 0 bytes. A connection that keeps one receive pending re-arms it right after each
// answer, when the answer's recv has just emptied the socket: that speculative recv fails
// with EAGAIN, one wasted system call per request. The reactor has the state for it
// (`done_and_exhausted`: "do not try at once until the descriptor is signalled again"); its
// own receive reports it only for end of stream. This one reports it also after a short
// read: TCP's recv returns fewer bytes than asked only when it emptied the receive queue, and
// anything that arrives afterwards is signalled by epoll (edge-triggered, and the reactor
// re-enables the speculative try on every signal, under the descriptor's lock), so a receive
// started later still finds it: at once when the signal came before it, from the reactor
// when after.
//
// This uses Asio's reactor interface (boost::asio::detail), which the project pins (Boost
// 1.81, epoll reactor); the static_assert below stops a build where it differs. With another
// reactor (kqueue, io_uring, IOCP) it is Asio's own receive, and the speculative recv stays.

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace catalyst::detail {

#if defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(BOOST_ASIO_HAS_IOCP)

namespace drained_receive_impl {

namespace ad = boost::asio::detail;

template <class Handler, class IoExecutor>
class op : public ad::reactor_op {
public:
    BOOST_ASIO_DEFINE_HANDLER_PTR(op);

    op(ad::socket_type s, void* data, std::size_t size, Handler& h, const IoExecutor& io_ex)
        : ad::reactor_op(boost::system::error_code(), &op::do_perform, &op::do_complete),
          socket_(s),
          data_(data),
          size_(size),
          handler_(std::move(h)),
          work_(handler_, io_ex) {}

    static status do_perform(ad::reactor_op* base) {
        auto* o = static_cast<op*>(base);
        if (!ad::socket_ops::non_blocking_recv1(o->socket_, o->data_, o->size_, 0, true, o->ec_, o->bytes_transferred_))
            return not_done;
        // A short read (or end of stream) emptied the socket: see the file comment.
        return !o->ec_ && o->bytes_transferred_ < o->size_ ? done_and_exhausted : done;
    }

    static void do_complete(void* owner, ad::operation* base, const boost::system::error_code&, std::size_t) {
        auto* o = static_cast<op*>(base);
        ptr p = {std::addressof(o->handler_), o, o};
        ad::handler_work<Handler, IoExecutor> w(std::move(o->work_));
        // The handler is moved out and the operation freed before the upcall: the handler may
        // start the next receive, which can then reuse the memory.
        ad::binder2<Handler, boost::system::error_code, std::size_t> handler(o->handler_, o->ec_, o->bytes_transferred_);
        p.h = std::addressof(handler.handler_);
        p.reset();
        if (owner) {
            ad::fenced_block b(ad::fenced_block::half);
            w.complete(handler, handler.handler_);
        }
    }

private:
    ad::socket_type socket_;
    void* data_;
    std::size_t size_;
    Handler handler_;
    ad::handler_work<Handler, IoExecutor> work_;
};

// basic_socket keeps its implementation protected: a pointer to that member, taken in a
// derived class, reads it from any socket.
template <class Socket>
struct access : Socket {
    static auto& impl(Socket& s) noexcept { return s.*(&access::impl_); }
};

}  // namespace drained_receive_impl

using reactor_type = boost::asio::detail::reactor;

/// The reactor of an executor's context (a look-up under a lock: once per connection).
template <class Executor>
reactor_type& reactor_of(const Executor& ex) {
    return boost::asio::use_service<reactor_type>(boost::asio::query(ex, boost::asio::execution::context));
}

/// Like `s.async_receive(buffer(data, size), handler)` (the same completion: error code and
/// bytes, on the socket's executor), but it leaves the reactor knowing when the socket was
/// emptied. `reactor` is `reactor_of(s.get_executor())`.
template <class Executor, class Handler>
void async_receive_drained(reactor_type& reactor, boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& s,
                           void* data, std::size_t size, Handler&& handler) {
    namespace ad = boost::asio::detail;
    using socket_t = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using handler_t = std::decay_t<Handler>;
    using op_t = drained_receive_impl::op<handler_t, Executor>;
    auto& io = drained_receive_impl::access<socket_t>::impl(s);
    auto& impl = io.get_implementation();
    static_assert(std::is_same_v<std::remove_reference_t<decltype(impl.reactor_data_)>, ad::reactor::per_descriptor_data>);

    handler_t h(std::forward<Handler>(handler));
    typename op_t::ptr p = {std::addressof(h), op_t::ptr::allocate(h), nullptr};
    p.p = new (p.v) op_t(impl.socket_, data, size, h, io.get_executor());
    if (size == 0 || impl.socket_ == ad::invalid_socket) {
        // Asio's own receive completes at once for an empty buffer, and its reactor refuses a
        // closed socket with bad_descriptor.
        if (size != 0) p.p->ec_ = boost::asio::error::bad_descriptor;
        reactor.post_immediate_completion(p.p, false);
    } else if ((impl.state_ & ad::socket_ops::non_blocking) == 0) {
        // The stream makes its socket non-blocking before the handshake; a receive that could
        // block the event loop is refused rather than performed.
        p.p->ec_ = boost::asio::error::operation_not_supported;
        reactor.post_immediate_completion(p.p, false);
    } else {
        reactor.start_op(ad::reactor::read_op, impl.socket_, impl.reactor_data_, p.p, false, true);
    }
    p.v = p.p = nullptr;
}

#else  // another reactor: Asio's receive

struct reactor_type {};

template <class Executor>
reactor_type& reactor_of(const Executor&) {
    static reactor_type none;
    return none;
}

template <class Executor, class Handler>
void async_receive_drained(reactor_type&, boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>& s,
                           void* data, std::size_t size, Handler&& handler) {
    s.async_receive(boost::asio::buffer(data, size), std::forward<Handler>(handler));
}

#endif

}  // namespace catalyst::detail

#endif
