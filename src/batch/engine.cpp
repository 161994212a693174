#include "batch/engine.hpp"

#include <catalyst/error.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "batch/pacer.hpp"
#include "batch/timestamp.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <semaphore>
#include <thread>
#include <unordered_map>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace catalyst::batch {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::uint64_t ms_since(clock::time_point t) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count());
}

std::string error_name(const boost::system::error_code& ec) {
    if (ec.category() == catalyst_category()) return std::string(to_string(static_cast<errc>(ec.value())));
    if (ec == net::error::operation_aborted) return "cancelled";
    return "system_error";
}

std::string join_fields(const field_errors& fields) {
    std::string s;
    for (const auto& f : fields) {
        if (!s.empty()) s += "; ";
        s += f.field + ": " + f.message;
    }
    return s;
}

std::string describe(const diagnostics& d, const boost::system::error_code& ec) {
    std::string s;
    auto add = [&](const std::string& part) {
        if (part.empty()) return;
        if (!s.empty()) s += "; ";
        s += part;
    };
    if (d.http_status) add("HTTP " + std::to_string(d.http_status));
    add(d.api_code);
    add(d.detail);
    add(join_fields(d.fields));
    if (!d.no_retry_reason.empty()) add("not retried: " + d.no_retry_reason);
    if (s.empty()) s = ec.message();
    return s;
}

// One line in flight: it owns the request and the diagnostics the client fills.
struct pending {
    input_item item;
    clock::time_point started;
    std::int64_t sent_ms = 0;  // first sent: by this run, or by an earlier one (resume)
    diagnostics diag;
};

class engine {
public:
    engine(net::io_context& ctx, client* cl, output_file& out, const engine_params& p, run_stats& stats)
        : ctx_(ctx), cl_(cl), out_(out), p_(p), stats_(stats),
          slots_(static_cast<std::ptrdiff_t>(2 * p.concurrency + 256)),
          pacer_(p.rate, std::max(1.0, p.rate / 10)), flush_timer_(ctx), progress_timer_(ctx),
          pace_timer_(ctx), signals_(ctx, SIGINT, SIGTERM) {}

    engine_result run() {
        started_ = clock::now();
        last_sync_ = started_;
        wait_signal();
        arm_flush();
        if (p_.progress != engine_params::progress_style::none) arm_progress();
        reader_ = std::thread([this] { read_loop(); });
        try {
            ctx_.run();
        } catch (...) {
            stop_reading_ = true;
            reader_.join();
            throw;
        }
        stop_reading_ = true;
        reader_.join();
        if (write_error_) std::rethrow_exception(write_error_);
        if (input_error_) std::rethrow_exception(input_error_);
        return aborted_ ? engine_result::aborted : engine_result::completed;
    }

private:
    // --- the reader thread ----------------------------------------------------------
    std::size_t read_input(char* buf, std::size_t n) {
        for (;;) {
            if (stop_reading_) return 0;
            pollfd pfd{p_.input_fd, POLLIN, 0};
            const int r = ::poll(&pfd, 1, 100);
            if (r < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "poll input");
            }
            if (r == 0) continue;
            const ssize_t k = ::read(p_.input_fd, buf, n);
            if (k >= 0) return static_cast<std::size_t>(k);
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::system_error(errno, std::generic_category(), "read input");
        }
    }

    void read_loop() {
        std::uint64_t empty = 0;
        std::uint64_t other = 0;
        std::uint64_t read = 0;
        std::uint64_t skipped = 0;
        std::exception_ptr error;
        try {
            input_source src([this](char* b, std::size_t n) { return read_input(b, n); }, p_.input);
            input_item item;
            while (src.next(item)) {
                bytes_read_.store(src.bytes_read(), std::memory_order_relaxed);
                if (stop_reading_) break;  // the last line may be cut: never sent
                ++read;
                // Every line the file knows is checked (a pre-pass did it already for a regular
                // file; this covers stdin): an edited input stops the run, it is not mixed in.
                if (auto why = check_line(out_.resume(), item.line, item.key.hex); !why.empty())
                    throw input_error(why);
                if (out_.resume().is_done(item.line)) {
                    ++skipped;
                    continue;
                }
                if (!p_.shard.contains(item.key)) {
                    ++other;
                    continue;
                }
                bool got = false;
                while (!(got = slots_.try_acquire_for(100ms)) && !stop_reading_) {
                }
                if (!got) break;
                net::post(ctx_, [this, it = std::move(item)]() mutable { on_item(std::move(it)); });
                item = input_item{};
            }
            empty = src.empty_lines();
            bytes_read_.store(src.bytes_read(), std::memory_order_relaxed);
        } catch (...) {
            error = std::current_exception();
        }
        net::post(ctx_, [this, empty, other, read, skipped, error] {
            stats_.lines_read = read;
            stats_.skipped_done = skipped;
            on_input_end(empty, other, error);
        });
    }

    // --- the event loop -------------------------------------------------------------
    void on_item(input_item&& it) {
        if (stopping_) {
            slots_.release();
            return;
        }
        if (!it.valid() || p_.dry_run) {
            result_record r;
            r.line = it.line;
            r.key = it.key.hex;
            r.ok = it.valid();
            r.dry_run = p_.dry_run && r.ok;
            r.finished_ms = now_ms();
            if (!r.ok) {
                r.error = std::string(to_string(errc::validation_failed));
                r.message = scrub_personal(join_fields(it.errors), it.request.lead);
            }
            write(r);
            slots_.release();
            return;
        }
        ready_.push_back(std::move(it));
        pump();
    }

    void pump() {
        std::vector<std::shared_ptr<pending>> batch;
        while (!stopping_ && in_flight_ < p_.concurrency && !ready_.empty()) {
            auto key_it = in_flight_keys_.find(ready_.front().key.hex);
            if (key_it != in_flight_keys_.end()) {
                // Same content already in flight: wait for it, then the server replays it.
                key_it->second.push_back(std::move(ready_.front()));
                ready_.pop_front();
                continue;
            }
            if (pacer_.enabled()) {
                const auto wait = pacer_.try_acquire(clock::now());
                if (wait > clock::duration::zero()) {
                    arm_pace(wait);
                    break;
                }
            }
            auto op = std::make_shared<pending>();
            op->item = std::move(ready_.front());
            ready_.pop_front();
            in_flight_keys_.try_emplace(op->item.key.hex);
            ++in_flight_;
            batch.push_back(std::move(op));
        }
        if (batch.empty()) return;
        // The `sending` records reach the file before the requests leave: a crash after this
        // point leaves a record saying that (and since when) these lines may have sessions.
        const std::int64_t now = now_ms();
        const auto& first_sent = out_.resume().first_sent;
        for (auto& op : batch) {
            const auto earlier = first_sent.find(op->item.line);
            const bool resent = earlier != first_sent.end() && earlier->second > 0;
            op->sent_ms = resent ? std::min(earlier->second, now) : now;
            result_record intent;
            intent.line = op->item.line;
            intent.key = op->item.key.hex;
            intent.sending = true;
            intent.sent_ms = op->sent_ms;
            out_.append(intent);
        }
        flush_out();
        if (write_error_) return;  // nothing leaves without its record; the run is ending
        for (auto& op : batch) start(std::move(op));
    }

    void start(std::shared_ptr<pending> op) {
        op->started = clock::now();
        request_options o = p_.request;
        o.idempotency_key = idempotency_key(op->item.key);
        pending& ref = *op;
        cl_->async_create_session(
            ref.item.request, o, &ref.diag,
            net::bind_executor(ctx_, [this, op = std::move(op)](boost::system::error_code ec, session s) {
                on_done(*op, ec, s);
            }));
    }

    void on_done(pending& op, const boost::system::error_code& ec, const session& s) {
        result_record r;
        r.line = op.item.line;
        r.key = op.item.key.hex;
        r.latency_ms = ms_since(op.started);
        r.attempts = op.diag.attempts;
        r.http_status = op.diag.http_status;
        r.sent_ms = op.sent_ms;
        r.finished_ms = now_ms();
        if (!ec) {
            r.ok = true;
            r.session_token = s.token;
            r.payment_url = s.payment_url;
            r.status = s.status_text.empty() ? std::string(to_string(s.status)) : s.status_text;
            r.replayed = s.replayed;
            r.reused = s.reused;
            if (r.attempts == 0) r.attempts = 1;
            if (r.http_status == 0) r.http_status = s.reused ? 200 : 201;
        } else {
            r.error = error_name(ec);
            r.message = scrub_personal(describe(op.diag, ec), op.item.request.lead);
        }
        write(r);
        --in_flight_;
        if (auto node = in_flight_keys_.find(r.key); node != in_flight_keys_.end()) {
            auto& parked = node->second;
            for (auto it = parked.rbegin(); it != parked.rend(); ++it) ready_.push_front(std::move(*it));
            in_flight_keys_.erase(node);
        }
        slots_.release();
        pump();
        maybe_finish();
    }

    void on_input_end(std::uint64_t empty, std::uint64_t other, std::exception_ptr error) {
        input_ended_ = true;
        stats_.empty_lines = empty;
        stats_.other_shards = other;
        if (error) {
            input_error_ = error;
            stopping_ = true;
        }
        maybe_finish();
    }

    void maybe_finish() {
        if (finished_ || in_flight_ > 0) return;
        if (!stopping_ && !(input_ended_ && ready_.empty())) return;
        finished_ = true;
        flush_timer_.cancel();
        progress_timer_.cancel();
        pace_timer_.cancel();
        signals_.cancel();
        flush_out();
        sync_out();
        read_allowed_rate();
        if (p_.progress != engine_params::progress_style::none) {
            print_progress();
            if (p_.progress == engine_params::progress_style::bar) std::fputc('\n', stderr);
        }
        ctx_.stop();
    }

    void write(const result_record& r) {
        out_.append(r);
        stats_.add(r);
        if (out_.wants_flush()) flush_out();
    }

    void flush_out() { persist([this] { out_.flush(); }); }
    void sync_out() { persist([this] { out_.sync(); }); }

    template <class Step>
    void persist(Step step) {
        if (write_error_) return;
        try {
            step();
        } catch (...) {
            // Nothing more can be recorded: stop now; lines not written are redone by a rerun.
            write_error_ = std::current_exception();
            stop_reading_ = true;
            stopping_ = true;
            ctx_.stop();
        }
    }

    void arm_flush() {
        flush_timer_.expires_after(p_.flush_interval);
        flush_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || finished_) return;
            flush_out();
            if (clock::now() - last_sync_ >= p_.sync_interval) {
                sync_out();
                last_sync_ = clock::now();
            }
            arm_flush();
        });
    }

    void arm_pace(clock::duration wait) {
        if (pace_armed_) return;
        pace_armed_ = true;
        pace_timer_.expires_after(wait);
        pace_timer_.async_wait([this](boost::system::error_code ec) {
            pace_armed_ = false;
            if (ec || finished_) return;
            pump();
        });
    }

    // The client's allowed rate (its metrics gauge), for the progress line and the summary.
    void read_allowed_rate() {
        if (p_.adaptive_rate && cl_) stats_.allowed_rate = cl_->metrics().rate_allowed;
    }

    void print_progress() {
        read_allowed_rate();
        std::optional<double> fraction;
        if (p_.input_size > 0)
            fraction = static_cast<double>(bytes_read_.load(std::memory_order_relaxed)) /
                       static_cast<double>(p_.input_size);
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started_);
        const bool bar = p_.progress == engine_params::progress_style::bar;
        const std::string line = format_progress(stats_, elapsed, p_.total, fraction, bar);
        if (bar) std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
        else std::fprintf(stderr, "catalyst-batch: %s\n", line.c_str());
        std::fflush(stderr);
    }

    void arm_progress() {
        progress_timer_.expires_after(p_.progress_interval);
        progress_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || finished_) return;
            print_progress();
            arm_progress();
        });
    }

    void wait_signal() {
        signals_.async_wait([this](boost::system::error_code ec, int) {
            if (ec || finished_) return;
            if (!stopping_) {
                stopping_ = true;
                aborted_ = true;
                stop_reading_ = true;
                for (std::size_t i = 0; i < ready_.size(); ++i) slots_.release();
                ready_.clear();
                if (p_.progress == engine_params::progress_style::bar) std::fputc('\n', stderr);
                std::fprintf(stderr,
                             "catalyst-batch: stopping: no new lines; finishing %u in flight "
                             "(signal again to leave at once; a rerun resumes)\n",
                             in_flight_);
                maybe_finish();
                wait_signal();
                return;
            }
            // Second signal: keep what is done, leave. In-flight lines are redone by a rerun
            // with the same keys.
            try {
                out_.flush();
                out_.sync();
            } catch (...) {
            }
            std::fprintf(stderr, "catalyst-batch: left at once; %u lines in flight are redone by a rerun\n",
                         in_flight_);
            std::_Exit(3);
        });
    }

    net::io_context& ctx_;
    client* cl_;
    output_file& out_;
    const engine_params& p_;
    run_stats& stats_;
    std::counting_semaphore<> slots_;
    pacer pacer_;
    net::steady_timer flush_timer_;
    net::steady_timer progress_timer_;
    net::steady_timer pace_timer_;
    net::signal_set signals_;
    std::thread reader_;
    std::atomic<bool> stop_reading_{false};
    std::atomic<std::uint64_t> bytes_read_{0};
    std::deque<input_item> ready_;
    std::unordered_map<std::string, std::deque<input_item>> in_flight_keys_;
    unsigned in_flight_ = 0;
    bool input_ended_ = false;
    bool stopping_ = false;
    bool aborted_ = false;
    bool finished_ = false;
    bool pace_armed_ = false;
    std::exception_ptr input_error_;
    std::exception_ptr write_error_;
    clock::time_point started_;
    clock::time_point last_sync_;
};

}  // namespace

engine_result run_engine(net::io_context& ctx, client* cl, output_file& out, const engine_params& p,
                         run_stats& stats) {
    engine e(ctx, cl, out, p, stats);
    return e.run();
}

std::optional<std::uint64_t> count_records(int fd, input_format f) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::vector<char> buf(1 << 16);
    std::uint64_t records = 0;
    bool blank = true;
    bool in_quotes = false;
    off_t off = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) break;
        ssize_t i = 0;
        if (off == 0 && n >= 3 && std::string_view(buf.data(), 3) == "\xEF\xBB\xBF") i = 3;
        off += n;
        for (; i < n; ++i) {
            const char c = buf[static_cast<std::size_t>(i)];
            if (f == input_format::csv && c == '"') in_quotes = !in_quotes;
            if (c == '\n') {
                if (in_quotes) continue;
                if (!blank) ++records;
                blank = true;
                continue;
            }
            if (blank && c != ' ' && c != '\t' && c != '\r') blank = false;
        }
    }
    if (!blank) ++records;
    if (f == input_format::csv && records > 0) --records;  // the header
    return records;
}

std::string scrub_personal(std::string message, const lead& l) {
    // A long value is masked wherever it appears; a short one (a first name "Jo", a postal code
    // part) wherever it stands as a word of its own, so that "Jo" is masked in `"Jo" is too
    // short` but the "jo" of "major" is left alone.
    auto is_alnum = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               static_cast<unsigned char>(c) >= 0x80;
    };
    auto mask = [&](std::string_view value) {
        if (value.empty()) return;
        const bool whole_word = value.size() < 3;
        for (std::size_t pos = message.find(value); pos != std::string::npos;) {
            const std::size_t end = pos + value.size();
            const bool inside_word = (pos > 0 && is_alnum(message[pos - 1])) ||
                                     (end < message.size() && is_alnum(message[end]));
            if (whole_word && inside_word) {
                pos = message.find(value, pos + 1);
                continue;
            }
            message.replace(pos, value.size(), "***");
            pos = message.find(value, pos + 3);
        }
    };
    mask(l.email);
    mask(l.first_name);
    mask(l.last_name);
    mask(l.phone.value_or(""));
    mask(l.address.value_or(""));
    mask(l.city.value_or(""));
    mask(l.postal_code.value_or(""));
    // Anything else shaped like an address: the word around an '@'.
    for (std::size_t at = message.find('@'); at != std::string::npos; at = message.find('@', at + 1)) {
        auto is_word = [](char c) { return c != ' ' && c != '"' && c != '\'' && c != ',' && c != ';' && c != ':'; };
        std::size_t b = at;
        while (b > 0 && is_word(message[b - 1])) --b;
        std::size_t e = at + 1;
        while (e < message.size() && is_word(message[e])) ++e;
        if (b == at || e == at + 1) continue;
        message.replace(b, e - b, "***");
        at = b;
    }
    return message;
}

}  // namespace catalyst::batch
