/* test_session.c: host/session/'s pure parts: a plugin command's text split
 * into words (sess_action_parse, for --every, --on-hit, command_every) and
 * the clock helpers the session times its stops with (base/sys.h). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sys.h"
#include "session/session.h"

static void want_words(const char *text, int argc, const char *const *words) {
  sess_action a;
  int rc = sess_action_parse(&a, SESS_AT_HIT, 0, text);
  print_message("%s -> %s\n", text, rc ? se_msg() : "ok");
  assert_int_equal(rc, 0);
  assert_int_equal(a.argc, argc);
  for (int i = 0; i < argc; i++) assert_string_equal(a.argv[i], words[i]);
  assert_null(a.argv[argc]);
  assert_ptr_equal(a.text, text);
  free(a.words);
}

static void test_action_words_quotes_and_escapes(void **state) {
  (void)state;
  want_words("stackdiff snapshot", 2, (const char *const[]){"stackdiff", "snapshot"});
  want_words("  memwatch\tsnapshot   -o  a.json ", 4, (const char *const[]){"memwatch", "snapshot", "-o", "a.json"});
  want_words("p c 'two words' \"and three words\"", 4,
             (const char *const[]){"p", "c", "two words", "and three words"});
  want_words("p c a\\ b 'x\\y' \"q\\\"r\"", 5, (const char *const[]){"p", "c", "a b", "x\\y", "q\"r"});
  want_words("p c ''", 3, (const char *const[]){"p", "c", ""});
  want_words("p c it's' x", 4, (const char *const[]){"p", "c", "its", "x"});
}

static void want_refused(const char *text, const char *msg_part) {
  sess_action a;
  int rc = sess_action_parse(&a, SESS_AT_EVERY, 1.0, text);
  print_message("%s -> %s\n", text, se_msg());
  assert_int_equal(rc, SE_USAGE);
  assert_non_null(strstr(se_msg(), msg_part));
  free(a.words);
  se_clear();
}

static void test_action_refused_shapes(void **state) {
  (void)state;
  want_refused("", "not a plugin command");
  want_refused("stackdiff", "not a plugin command");
  want_refused("p c 'open", "a quote is not closed");
  want_refused("p c \"open", "a quote is not closed");
  char many[4 * (SESS_MAX_ARGS + 2)] = "";
  for (int i = 0; i <= SESS_MAX_ARGS; i++) strcat(many, "w ");
  want_refused(many, "more than");
}

/* Exactly SESS_MAX_ARGS words is allowed; argv stays NULL-terminated. */
static void test_action_at_the_word_limit(void **state) {
  (void)state;
  char text[4 * SESS_MAX_ARGS] = "";
  for (int i = 0; i < SESS_MAX_ARGS; i++) strcat(text, "w ");
  sess_action a;
  assert_int_equal(sess_action_parse(&a, SESS_AT_HIT, 0, text), 0);
  assert_int_equal(a.argc, SESS_MAX_ARGS);
  assert_null(a.argv[SESS_MAX_ARGS]);
  free(a.words);
}

static void test_sys_clock_and_kernel(void **state) {
  (void)state;
  struct timespec a = {10, 500000000}, b = {12, 250000000};
  assert_true(sys_ms_between(&a, &b) > 1749.999 && sys_ms_between(&a, &b) < 1750.001);
  assert_true(sys_ms_between(&b, &a) < -1749.999);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  assert_true(sys_ms_since(&now) >= 0);
  char rel[65];
  sys_kernel_release(rel, sizeof rel);
  assert_true(rel[0] != 0);
  char tiny[4];
  sys_kernel_release(tiny, sizeof tiny);
  assert_true(strlen(tiny) <= 3);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_action_words_quotes_and_escapes),
    cmocka_unit_test(test_action_refused_shapes),
    cmocka_unit_test(test_action_at_the_word_limit),
    cmocka_unit_test(test_sys_clock_and_kernel),
};

UNIT_MAIN(tests)
