/* test_waits.c: host/goruntime/waits.c's wait-reason table, the one both
 * the wait model and the leak analysis read (waits.h gr_reason_class_of). */
#include "unit.h"

#include "goruntime/waits.h"

/* Every reason runtime/mgc.go isMaybeRunnable judges, as runtime2.go's
 * waitReasonStrings spell them (Go 1.19 to 1.27), and its class. */
static void test_reason_class_of_each_judged_reason(void **state) {
  (void)state;
  static const struct {
    const char *reason;
    gr_reason_class c;
  } want[] = {
      {"chan send (nil chan)", GR_REASON_NEVER}, {"chan receive (nil chan)", GR_REASON_NEVER},
      {"select (no cases)", GR_REASON_NEVER},    {"chan send", GR_REASON_CHAN_SEND},
      {"chan receive", GR_REASON_CHAN_RECV},     {"select", GR_REASON_SELECT},
      {"sync.Mutex.Lock", GR_REASON_SEMA},       {"sync.RWMutex.RLock", GR_REASON_SEMA},
      {"sync.RWMutex.Lock", GR_REASON_SEMA},     {"sync.WaitGroup.Wait", GR_REASON_SEMA},
      {"semacquire", GR_REASON_SEMA},            {"sync.Cond.Wait", GR_REASON_COND},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    print_message("%s\n", want[i].reason);
    assert_int_equal(gr_reason_class_of(want[i].reason), want[i].c);
  }
}

/* Everything else is not judged: sleeps, IO, the GC's own waits, synctest
 * bubbles (runtime's detector skips them too), near misses, nothing. */
static void test_reason_class_of_the_rest_is_other(void **state) {
  (void)state;
  static const char *const other[] = {"",
                                      "sleep",
                                      "IO wait",
                                      "GC worker (idle)",
                                      "preempted",
                                      "chan receive (synctest)",
                                      "select (synctest)",
                                      "synctest.Wait",
                                      "chan receive ",
                                      "Chan receive",
                                      "sync.Mutex.Unlock",
                                      "select (no cases) "};
  for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
    print_message("%s\n", other[i]);
    assert_int_equal(gr_reason_class_of(other[i]), GR_REASON_OTHER);
  }
  assert_int_equal(gr_reason_class_of(NULL), GR_REASON_OTHER);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reason_class_of_each_judged_reason),
    cmocka_unit_test(test_reason_class_of_the_rest_is_other),
};

UNIT_MAIN(tests)
