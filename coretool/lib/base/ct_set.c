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
