// Deliberately broken: a heap buffer overflow that ASan must report. Built only with
// RECUR_SANITIZER_CANARY=ON, to prove the sanitizer setup really fires.
#include <cstdio>
#include <vector>

int main(int argc, char**) {
  std::vector<int> v(4);
  int* p = v.data();
  p[argc + 3] = 1;  // one past the end
  std::printf("%d\n", p[0]);
  return 0;
}
