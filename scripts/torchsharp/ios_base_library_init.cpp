// GCC 13's <iostream> emits calls to std::ios_base_library_init() (versioned GLIBCXX_3.4.32).
// Debian 12's libstdc++ (GCC 12) lacks it; constructing a static ios_base::Init does the same work.
#include <ios>

namespace std {
__attribute__((visibility("default"))) void ios_base_library_init() {
    static ios_base::Init init;
}
}  // namespace std
