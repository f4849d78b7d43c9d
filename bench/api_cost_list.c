/* api_cost_list.c — api_cost_bench's list figures: repeated reads of every pod (or of a selection,
 * in pages, as a Table), their latency, their size, and the serving process's peak memory. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_cost.h"

#define PAGE_LIMIT   500
#define LABEL_VALUE  3 /* app=bench-3: a tenth of the pods */
#define TABLE_ACCEPT "application/json;as=Table;v=v1;g=meta.k8s.io"
#define PODS_PATH    "/api/v1/namespaces/default/pods"
#define ETCD_PREFIX  "/registry/pods/default/"
#define ETCD_END     "/registry/pods/default0" /* the prefix with its last byte + 1 */
#define MIB(kb)      ((double)(kb) / 1024.0)

const char *const cost_list_names[COST_LISTS] = {"list_plain", "list_label", "list_paged",
                                                 "list_table", "list_follower"};

bool cost_list_applies(enum bench_system sys, enum cost_list_id id)
{
	return sys == BENCH_STSD || id == LIST_PLAIN || id == LIST_FOLLOWER;
}

static long expected_items(enum cost_list_id id, long pods)
{
	return id == LIST_LABEL ? (pods + 9 - LABEL_VALUE) / 10 : pods;
}

/* The URL (and etcd's body) of one read of figure id; token continues a paged list. */
static void request_of(const struct bench_cluster *c, int member, enum cost_list_id id,
                       const char *token, char *url, size_t len, char *post, size_t plen)
{
	const char *api = c->m[member].api;
	char bkey[64], bend[64];

	post[0] = '\0';
	if (c->sys == BENCH_ETCD) {
		bench_b64(ETCD_PREFIX, strlen(ETCD_PREFIX), bkey);
		bench_b64(ETCD_END, strlen(ETCD_END), bend);
		snprintf(url, len, BENCH_SCHEME "%s/v3/kv/range", api);
		snprintf(post, plen, "{\"key\":\"%s\",\"range_end\":\"%s\"%s}", bkey, bend,
		         id == LIST_FOLLOWER ? ",\"serializable\":true" : "");
		return;
	}
	if (id == LIST_LABEL)
		snprintf(url, len, BENCH_SCHEME "%s" PODS_PATH "?labelSelector=app%%3Dbench-%d",
		         api, LABEL_VALUE);
	else if (id == LIST_PAGED)
		snprintf(url, len, BENCH_SCHEME "%s" PODS_PATH "?limit=%d%s%s", api, PAGE_LIMIT,
		         token ? "&continue=" : "", token ? token : "");
	else if (id == LIST_FOLLOWER)
		snprintf(url, len, BENCH_SCHEME "%s" PODS_PATH "?resourceVersion=0", api);
	else
		snprintf(url, len, BENCH_SCHEME "%s" PODS_PATH, api);
}

/* The continue token of a page (URL-escaped into out), or false on the last page. Searched as
 * text: parsing a page would add the client's parse to every page's time. */
static bool next_token(CURL *h, const char *body, char *out, size_t len)
{
	const char *p = strstr(body, "\"continue\":\""), *end;
	char *esc;

	if (p == NULL)
		return false;
	p += strlen("\"continue\":\"");
	if ((end = strchr(p, '"')) == NULL || end == p)
		return false;
	esc = curl_easy_escape(h, p, (int)(end - p));
	snprintf(out, len, "%s", esc ? esc : "");
	curl_free(esc);
	return out[0] != '\0';
}

static long self_anon_kb(void)
{
	struct cost_mem m;

	cost_mem_read(getpid(), &m);
	return m.anon_kb;
}

/* How many objects an answer holds, parsed; *tree_kb gets what the parsed tree cost this process
 * (what a server holding the whole answer as a tree would need on top of its text). Only the
 * process's first big parse is measured: later ones reuse what malloc kept from earlier ones. */
static long count_items(enum bench_system sys, enum cost_list_id id, const struct cost_get *g,
                        long *tree_kb)
{
	static bool measured;
	long before = self_anon_kb(), n = -1;
	json_t *doc = json_loadb(g->body, g->len, 0, NULL);

	if (tree_kb != NULL && !measured) {
		*tree_kb = before >= 0 ? self_anon_kb() - before : -1;
		measured = true;
	}
	if (sys == BENCH_ETCD) {
		json_t *count = json_object_get(doc, "count");
		n = json_is_string(count)    ? atol(json_string_value(count))
		    : json_is_integer(count) ? (long)json_integer_value(count)
		                             : (long)json_array_size(json_object_get(doc, "kvs"));
	} else if (json_is_object(doc)) {
		json_t *a = json_object_get(doc, id == LIST_TABLE ? "rows" : "items");
		n = json_is_array(a) ? (long)json_array_size(a) : -1;
	}
	json_decref(doc);
	return n;
}

static void read_error(struct cost_list_fig *f, const char *url, const struct cost_get *g)
{
	f->errors++;
	if (f->first_error[0] == '\0')
		snprintf(f->first_error, sizeof f->first_error, "status %ld at %.100s: %.120s",
		         g->status, url, g->body ? g->body : "");
}

/* One read of the figure (every page of it). false on an error answer. The first that succeeds
 * has its items counted (f->items is -1 until then). */
static bool read_once(struct bench_cluster *c, int member, enum cost_list_id id, struct cost_get *g,
                      struct cost_list_fig *f, double *ms)
{
	char url[1024], post[256], token[600];
	const char *accept = id == LIST_TABLE ? TABLE_ACCEPT : NULL;
	bool more = true, first = true, check = f->items < 0;
	size_t bytes = 0, pages = 0;
	long items = 0;

	*ms = 0;
	while (more) {
		request_of(c, member, id, first ? NULL : token, url, sizeof url, post, sizeof post);
		first = false;
		if (cost_get_run(g, url, accept, post[0] ? post : NULL) != 0 || g->status != 200) {
			read_error(f, url, g);
			return false;
		}
		*ms += g->ms;
		bytes += g->len;
		pages++;
		more = id == LIST_PAGED && next_token(g->h, g->body, token, sizeof token);
		if (check)
			items += count_items(c->sys, id, g, id == LIST_PLAIN ? &f->tree_kb : NULL);
	}
	if (check)
		f->items = items;
	f->bytes = bytes;
	f->pages = pages;
	return true;
}

void cost_list_figure(struct bench_cluster *c, int member, enum cost_list_id id, long pods,
                      long reps, struct cost_list_fig *f)
{
	struct bench_samples lat = {.n = 0};
	struct cost_get g = {.h = bench_curl_new(c->sys)};
	pid_t pid = c->m[member].pid;
	double ms;

	*f = (struct cost_list_fig){
	    .ran = true, .items = -1, .expected = expected_items(id, pods), .tree_kb = -1};
	cost_mem_read(pid, &f->before);
	f->peak_reset = cost_mem_reset_peak(pid);
	for (long r = 0; r < reps; r++) {
		if (read_once(c, member, id, &g, f, &ms))
			bench_samples_add(&lat, ms);
		if (bench_interrupted())
			bench_poll_sleep(0);
	}
	cost_mem_read(pid, &f->after);
	if (lat.n > 0)
		bench_stats_of(lat.v, lat.n, &f->lat);
	if (f->items != f->expected && f->errors == 0) {
		f->errors++;
		snprintf(f->first_error, sizeof f->first_error, "%ld items where %ld were expected",
		         f->items, f->expected);
	}
	free(lat.v);
	cost_get_free(&g);
}

void cost_list_print(enum bench_system sys, enum cost_list_id id, int member,
                     const struct cost_list_fig *f)
{
	/* the peak the reads added: against the RSS before them when the peak could be reset */
	long base = f->peak_reset ? f->before.rss_kb : f->before.hwm_kb;

	printf(COST_PROG ": list system=%s figure=%s member=%d reps=%zu items=%ld expected=%ld "
	                 "pages=%zu bytes=%zu errors=%zu elections=%ld",
	       bench_system_name(sys), cost_list_names[id], member + 1, f->lat.n, f->items,
	       f->expected, f->pages, f->bytes, f->errors, f->elections);
	if (f->lat.n > 0)
		printf(" min_ms=%.2f median_ms=%.2f p99_ms=%.2f max_ms=%.2f", f->lat.min,
		       f->lat.median, f->lat.p99, f->lat.max);
	if (f->before.rss_kb >= 0 && f->after.hwm_kb >= 0)
		printf(
		    " hwm_before_mib=%.1f rss_before_mib=%.1f anon_before_mib=%.1f peak_reset=%s "
		    "hwm_after_mib=%.1f peak_growth_mib=%.1f rss_after_mib=%.1f "
		    "anon_after_mib=%.1f",
		    MIB(f->before.hwm_kb), MIB(f->before.rss_kb), MIB(f->before.anon_kb),
		    f->peak_reset ? "yes" : "no", MIB(f->after.hwm_kb), MIB(f->after.hwm_kb - base),
		    MIB(f->after.rss_kb), MIB(f->after.anon_kb));
	if (f->tree_kb >= 0)
		printf(" client_tree_mib=%.1f", MIB(f->tree_kb));
	if (f->first_error[0] != '\0')
		printf(" first_error=\"%s\"", f->first_error);
	printf("\n");
}
