/* test_reach.c: host/goruntime/reach_groups.c's pure part: the deadlock cycles
 * among leaked goroutines (strongly connected components of "could wake"). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "goruntime/reach.h"

/* A graph from an edge list: CSR arrays as gr_reach_cycles takes them. */
typedef struct {
  uint32_t *off, *adj;
  size_t n;
} graph;

static graph make_graph(size_t n, const uint32_t (*edges)[2], size_t ne) {
  graph g = {calloc(n + 1, sizeof(uint32_t)), calloc(ne + 1, sizeof(uint32_t)), n};
  assert_non_null(g.off);
  assert_non_null(g.adj);
  for (size_t e = 0; e < ne; e++)
    g.off[edges[e][0] + 1]++;
  for (size_t v = 0; v < n; v++)
    g.off[v + 1] += g.off[v];
  uint32_t *at = calloc(n + 1, sizeof *at);
  assert_non_null(at);
  for (size_t e = 0; e < ne; e++) {
    uint32_t v = edges[e][0];
    g.adj[g.off[v] + at[v]++] = edges[e][1];
  }
  free(at);
  return g;
}

static void free_graph(graph *g) {
  free(g->off);
  free(g->adj);
}

/* Two goroutines each holding what the other waits on form one cycle; a
 * three-goroutine ring another; a goroutine that could wake one of them
 * but none of them it, and one waiting on itself, are in none. */
static void test_reach_cycles_finds_rings_and_only_rings(void **state) {
  (void)state;
  static const uint32_t e[][2] = {{0, 1}, {1, 0},         /* a pair */
                                  {2, 3}, {3, 4}, {4, 2}, /* a ring of three */
                                  {5, 0},                 /* wakes the pair, nobody wakes it */
                                  {6, 6},                 /* waits on what it holds itself */
                                  {4, 7}};                /* the ring could wake 7 */
  graph g = make_graph(9, e, sizeof e / sizeof e[0]);
  uint32_t cyc[9];
  size_t n = 99;
  assert_int_equal(gr_reach_cycles(g.off, g.adj, g.n, cyc, &n), 0);
  assert_int_equal(n, 2);
  assert_true(cyc[0] && cyc[0] == cyc[1]);
  assert_true(cyc[2] && cyc[2] == cyc[3] && cyc[3] == cyc[4]);
  assert_int_not_equal(cyc[0], cyc[2]);
  assert_int_equal(cyc[5], 0);
  assert_int_equal(cyc[6], 0);
  assert_int_equal(cyc[7], 0);
  assert_int_equal(cyc[8], 0);
  free_graph(&g);
}

/* 200,000 goroutines in one chain closed into a ring, and the same chain
 * open: deep enough that a recursive search would overflow the stack. */
static void test_reach_cycles_survives_a_chain_of_200000(void **state) {
  (void)state;
  enum { N = 200000 };
  uint32_t(*e)[2] = calloc(N, sizeof *e);
  uint32_t *cyc = calloc(N, sizeof *cyc);
  assert_non_null(e);
  assert_non_null(cyc);
  for (uint32_t v = 0; v < N; v++) {
    e[v][0] = v;
    e[v][1] = (v + 1) % N;
  }
  graph ring = make_graph(N, (const uint32_t(*)[2])e, N);
  size_t n = 0;
  assert_int_equal(gr_reach_cycles(ring.off, ring.adj, N, cyc, &n), 0);
  assert_int_equal(n, 1);
  for (uint32_t v = 0; v < N; v++)
    assert_int_equal(cyc[v], 1);
  graph chain = make_graph(N, (const uint32_t(*)[2])e, N - 1); /* without the closing edge */
  assert_int_equal(gr_reach_cycles(chain.off, chain.adj, N, cyc, &n), 0);
  assert_int_equal(n, 0);
  for (uint32_t v = 0; v < N; v++)
    assert_int_equal(cyc[v], 0);
  free_graph(&ring);
  free_graph(&chain);
  free(e);
  free(cyc);
}

static void test_reach_cycles_of_nothing(void **state) {
  (void)state;
  uint32_t off[1] = {0}, cyc[1] = {7};
  size_t n = 5;
  assert_int_equal(gr_reach_cycles(off, off, 0, cyc, &n), 0);
  assert_int_equal(n, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reach_cycles_finds_rings_and_only_rings),
    cmocka_unit_test(test_reach_cycles_survives_a_chain_of_200000),
    cmocka_unit_test(test_reach_cycles_of_nothing),
};

UNIT_MAIN(tests)
