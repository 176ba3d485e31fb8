// tsan_canary MODE: two threads share a counter, synchronised as MODE says. Run by
// tsan_setup_test under ThreadSanitizer, which must report a race for "unguarded" and
// "two-mutexes" and nothing for the others, or its reports mean nothing.
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {

constexpr int kRounds = 20000;

absl::Mutex mu;
absl::Mutex other_mu;
absl::CondVar turn_changed;
int counter = 0;
int turn = 0;  // for the modes that alternate the two threads

void Increment(const char* mode, int me) {
  for (int i = 0; i < kRounds; ++i) {
    if (strcmp(mode, "unguarded") == 0) {
      ++counter;
    } else if (strcmp(mode, "mutex") == 0) {
      absl::MutexLock lock(&mu);
      ++counter;
    } else if (strcmp(mode, "two-mutexes") == 0) {
      // Each thread locks a mutex of its own: no ordering between them, a race.
      absl::MutexLock lock(me == 0 ? &mu : &other_mu);
      ++counter;
    } else if (strcmp(mode, "trylock") == 0) {
      while (!mu.TryLock()) {
      }
      ++counter;
      mu.Unlock();
    } else if (strcmp(mode, "lockwhen") == 0) {
      mu.LockWhen(absl::Condition(+[](int* me_ptr) { return turn == *me_ptr; }, &me));
      ++counter;
      turn = 1 - me;
      mu.Unlock();
    } else if (strcmp(mode, "reader-writer") == 0) {
      if (i % 2 == 0) {
        absl::ReaderMutexLock lock(&mu);
        if (counter < 0) std::abort();
      } else {
        absl::WriterMutexLock lock(&mu);
        ++counter;
      }
    } else if (strcmp(mode, "await") == 0) {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(+[](int* me_ptr) { return turn == *me_ptr; }, &me));
      ++counter;
      turn = 1 - me;
    } else if (strcmp(mode, "condvar") == 0) {
      absl::MutexLock lock(&mu);
      while (turn != me) turn_changed.Wait(&mu);
      ++counter;
      turn = 1 - me;
      turn_changed.SignalAll();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tsan_canary unguarded|two-mutexes|mutex|trylock|lockwhen|"
                 "reader-writer|await|condvar\n";
    return 2;
  }
  std::thread first(Increment, argv[1], 0);
  std::thread second(Increment, argv[1], 1);
  first.join();
  second.join();
  std::cout << "counter " << counter << "\n";
  return 0;
}
