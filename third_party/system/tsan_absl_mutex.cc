// Linked into every binary of a ThreadSanitizer build (`--config=tsan`), and only there.
//
// Debian's Abseil is not built with TSan: its Mutex and CondVar synchronise through futexes
// and atomics that TSan cannot see, so every access guarded by an absl::Mutex would look
// like a race. This file defines the Mutex and CondVar entry points in the binary itself,
// where they take precedence over the shared library's (for our code and for gRPC's alike),
// calls the library's own implementation, and tells TSan what each call did, with the same
// annotations Abseil makes when it is built with TSan. A report then means a real race.
//
// The "WithTimeout" forms go through the "WithDeadline" ones here, as the library's would
// (through this file's, and be annotated twice).
//
// Between the "pre" and "post" annotations TSan ignores memory accesses. That covers the
// Condition functions Abseil evaluates inside Unlock, Await and LockWhen: they run while the
// mutex is in fact held, but inside the library's code, where TSan sees no lock.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace absl {
ABSL_NAMESPACE_BEGIN
namespace {

// The next definition of `mangled` after this binary's: the shared library's.
template <typename Function>
Function Real(const char* mangled) {
  void* found = dlsym(RTLD_NEXT, mangled);
  if (found == nullptr) {
    fprintf(stderr, "tsan_absl_mutex: %s not found; Abseil's ABI changed\n", mangled);
    abort();
  }
  return reinterpret_cast<Function>(found);
}

#define REAL(type, mangled) static const auto real = Real<type>(mangled)

// Await and CondVar::Wait release the mutex and take it again before they return. (Both are
// modelled for a mutex held exclusively; we never wait while holding it as a reader.)
void BeforeRelease(Mutex* mu) { __tsan_mutex_pre_unlock(mu, 0); }
void AfterReacquire(Mutex* mu) {
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
}

}  // namespace

// Not annotated as a destruction: gRPC destroys its mutexes once its own (invisible) reference
// counts say so, which TSan would take for a race with the last unlock. Freeing the memory
// resets TSan's state for the mutex anyway.
Mutex::~Mutex() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35MutexD2Ev");
  real(this);
}

void Mutex::Lock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

bool Mutex::TryLock() {
  REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::ReaderLock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
}

void Mutex::ReaderUnlock() {
  REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderTryLock() {
  REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(this, flags);
  bool locked = real(this);
  __tsan_mutex_post_lock(this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&),
       "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this, cond);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return ReaderLockWhenWithDeadline(cond, Now() + timeout);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
  return met;
}

void Mutex::LockWhen(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return LockWhenWithDeadline(cond, Now() + timeout);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_mutex_pre_lock(this, 0);
  bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

void Mutex::Await(const Condition& cond) {
  REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  BeforeRelease(this);
  real(this, cond);
  AfterReacquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  return AwaitWithDeadline(cond, Now() + timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  BeforeRelease(this);
  bool met = real(this, cond, deadline);
  AfterReacquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  BeforeRelease(mu);
  real(this, mu);
  AfterReacquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  return WaitWithDeadline(mu, Now() + timeout);
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  REAL(bool (*)(CondVar*, Mutex*, Time),
       "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  BeforeRelease(mu);
  bool timed_out = real(this, mu, deadline);
  AfterReacquire(mu);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl

// TSan reads its suppressions from here, in every process of a TSan build.
//
// Debian's gRPC, Abseil, protobuf, RocksDB and OpenSSL are not built with TSan. What they synchronise
// with atomics and lock-free queues inside their own code is invisible to it; yet TSan's
// interceptors (malloc/free, memcpy, send/recv) still record the accesses these libraries
// make through them, so two such accesses, properly ordered by the library, look like a race.
// `called_from_lib` makes TSan ignore the accesses and synchronisation of interceptors called
// from these libraries, and nothing else: every access our (instrumented) code makes is still
// checked. What is lost: a race in data that our code hands to one of these libraries to
// copy (a string passed to absl::StrCat, say) is seen only where our own code touches it.
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgpr.so\n"
         "called_from_lib:libabsl_status.so\n"
         "called_from_lib:libabsl_statusor.so\n"
         "called_from_lib:libabsl_strings.so\n"
         "called_from_lib:libabsl_strings_internal.so\n"
         "called_from_lib:libabsl_str_format_internal.so\n"
         "called_from_lib:libabsl_cord.so\n"
         "called_from_lib:libabsl_cord_internal.so\n"
         "called_from_lib:libabsl_synchronization.so\n"
         // Abseil's deadlock detector: its graph is guarded by Abseil's internal spinlock.
         "called_from_lib:libabsl_graphcycles_internal.so\n"
         "called_from_lib:libabsl_malloc_internal.so\n"
         "called_from_lib:libabsl_base.so\n"
         "called_from_lib:libabsl_raw_hash_set.so\n"
         "called_from_lib:libprotobuf.so\n"
         "called_from_lib:librocksdb.so\n"
         // gRPC's TLS runs OpenSSL on its own threads, ordered by gRPC (above).
         "called_from_lib:libssl.so\n"
         "called_from_lib:libcrypto.so\n"
         // gRPC's threads end through gRPC's own bookkeeping, unseen; ours are std::threads.
         "thread:grpc_core::Thread::Thread\n";
}
