// Deliberately broken: signed integer overflow that UBSan must report (RECUR_SANITIZER_CANARY).
#include <climits>
#include <cstdio>

int main(int argc, char**) {
  int x = INT_MAX - 1 + argc;
  x += argc;  // overflows
  std::printf("%d\n", x);
  return 0;
}
