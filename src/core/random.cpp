#include "core/random.hpp"

namespace catalyst::detail {

std::mt19937_64& random_engine() {
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    return gen;
}

double uniform01() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_engine()); }

}  // namespace catalyst::detail
