// The one unit that compiles Beast's non-template parts (BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/beast/src.hpp>
