#include "ct_set.h"
#include "ct_util.h"

#include <stdlib.h>

struct ct_error *ct_u64set_add(struct ct_u64set *s, uint64_t v, bool *seen)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		uint64_t *ntab = calloc(ncap, sizeof(*ntab));
		if (!ntab)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory (a set of %zu values)", s->n);
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->tab[i])
				continue;
			size_t j = ct_hash_slot(s->tab[i], ncap);
			while (ntab[j])
				j = (j + 1) & (ncap - 1);
			ntab[j] = s->tab[i];
		}
		free(s->tab);
		s->tab = ntab;
		s->cap = ncap;
	}
	size_t j = ct_hash_slot(v, s->cap);
	for (; s->tab[j]; j = (j + 1) & (s->cap - 1)) {
		if (s->tab[j] == v) {
			*seen = true;
			return NULL;
		}
	}
	s->tab[j] = v;
	s->n++;
	*seen = false;
	return NULL;
}

bool ct_u64set_has(const struct ct_u64set *s, uint64_t v)
{
	if (!s->cap || !v)
		return false;
	size_t j = ct_hash_slot(v, s->cap);
	for (; s->tab[j]; j = (j + 1) & (s->cap - 1))
		if (s->tab[j] == v)
			return true;
	return false;
}

void ct_u64set_free(struct ct_u64set *s)
{
	free(s->tab);
	s->tab = NULL;
	s->cap = s->n = 0;
}

bool ct_u64map_get(const struct ct_u64map *m, uint64_t k, uint32_t *v)
{
	if (!m->cap || !k)
		return false;
	for (size_t j = ct_hash_slot(k, m->cap); m->keys[j]; j = (j + 1) & (m->cap - 1))
		if (m->keys[j] == k) {
			*v = m->vals[j];
			return true;
		}
	return false;
}

bool ct_u64map_put(struct ct_u64map *m, uint64_t k, uint32_t v)
{
	if (!k)
		return true;
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		uint64_t *nk = calloc(nc, sizeof(*nk));
		uint32_t *nv = calloc(nc, sizeof(*nv));
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return false;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				size_t j = ct_hash_slot(m->keys[i], nc);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = m->keys[i];
				nv[j] = m->vals[i];
			}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = nc;
	}
	size_t j = ct_hash_slot(k, m->cap);
	while (m->keys[j] && m->keys[j] != k)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j])
		m->n++;
	m->keys[j] = k;
	m->vals[j] = v;
	return true;
}

void ct_u64map_free(struct ct_u64map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct ct_u64map){ 0 };
}
