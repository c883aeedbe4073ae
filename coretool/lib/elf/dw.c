#define _GNU_SOURCE
#include "dw.h"
#include "ct_file.h"
#include "ct_util.h"

#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t dw_hash(const char *s)
{
	return ct_fnv1a(CT_HASH_INIT, s, strlen(s));
}

static struct ct_error *dw_insert(struct dw *dw, const char *name, Dwarf_Off off, int tag)
{
	if (2 * (dw->nentries + 1) > dw->tabsz) {
		size_t nsz = dw->tabsz ? dw->tabsz * 2 : 4096;
		struct dw_entry *ntab = calloc(nsz, sizeof(*ntab));
		if (!ntab)
			return ct_error_fmt(CT_ERR_NOMEM, "out of memory indexing DWARF");
		for (size_t i = 0; i < dw->tabsz; i++) {
			if (!dw->tab[i].name)
				continue;
			size_t j = dw_hash(dw->tab[i].name) & (nsz - 1);
			while (ntab[j].name)
				j = (j + 1) & (nsz - 1);
			ntab[j] = dw->tab[i];
		}
		free(dw->tab);
		dw->tab = ntab;
		dw->tabsz = nsz;
	}
	size_t j = dw_hash(name) & (dw->tabsz - 1);
	/* Keep every DIE: several may share a name (a type and a variable). */
	while (dw->tab[j].name)
		j = (j + 1) & (dw->tabsz - 1);
	dw->tab[j] = (struct dw_entry){ name, off, tag };
	dw->nentries++;
	return NULL;
}

static struct ct_error *dw_index(struct dw *dw)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dw->dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(dw->dbg, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			if (!dw->version) {
				Dwarf_Half v;
				if (dwarf_cu_info(cu.cu, &v, NULL, NULL, NULL, NULL, NULL, NULL) == 0)
					dw->version = v;
			}
			do {
				const char *name = dwarf_diename(&child);
				if (!name || !*name)
					continue;
				struct ct_error *err = dw_insert(dw, name, dwarf_dieoffset(&child),
								 dwarf_tag(&child));
				if (err)
					return err;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return NULL;
}

static bool dw_has_debug_info(struct dw *dw)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(dw->elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	bool found = false;
	while ((scn = elf_nextscn(dw->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(dw->elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".go.buildinfo") || !strcmp(name, ".note.go.buildid"))
			dw->is_go = true;
		if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")) {
			found = true;
			dw->compressed = (sh.sh_flags & SHF_COMPRESSED) || name[1] == 'z';
		}
	}
	return found;
}

/* ---- the image libdw reads, and its cache ----
 *
 * libdw inflates every compressed debug section when it opens a file (Go
 * compresses them all), .debug_loclists and .debug_frame included, and our
 * name index reads every DIE: together nearly all the time of opening a core.
 * So libdw gets an in-memory ELF holding only the sections our lookups read,
 * uncompressed, and that image and the index go to the cache, keyed by the
 * build ID: the next core of the same build opens without touching DWARF.
 * Unwinding does not use this: libdwfl reads .debug_frame from the file. */

static const char *const dw_image_sections[] = {
	".debug_info", ".debug_abbrev", ".debug_str", ".debug_str_offsets", ".debug_addr",
	".debug_line", ".debug_line_str", ".debug_rnglists", ".debug_ranges", NULL,
};

/* Bump when the image or the index changes meaning. */
#define DW_CACHE_FORMAT 1

struct dw_cache_head {
	uint32_t format, version;
	uint64_t img_len, tabsz, nentries;
};
struct dw_cache_ent {
	uint32_t name; /* offset in the image; UINT32_MAX: empty slot */
	int32_t tag;
	uint64_t off;
};

const char *dw_cache_state_name(enum dw_cache_state st)
{
	switch (st) {
	case DW_CACHE_HIT: return "hit";
	case DW_CACHE_STORED: return "stored";
	case DW_CACHE_FAILED: return "not stored";
	case DW_CACHE_UNKEYED: return "no build ID";
	case DW_CACHE_OFF: break;
	}
	return "off";
}

static size_t dw_align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* The section's image name if libdw should get it (".zdebug_x" is ".debug_x"). */
static const char *dw_image_name(const char *name)
{
	char buf[64];
	if (!strncmp(name, ".zdebug_", 8) && snprintf(buf, sizeof(buf), ".debug_%s", name + 8) < (int)sizeof(buf))
		name = buf;
	for (size_t i = 0; dw_image_sections[i]; i++)
		if (!strcmp(name, dw_image_sections[i]))
			return dw_image_sections[i];
	return NULL;
}

/* The image dw_build_image makes of an executable: its sections (names,
 * uncompressed sizes, where they go) and the layout around them. Planned
 * without inflating anything (the sizes are in the compression headers), so
 * that a cached image can be checked against the executable it claims to be
 * made of (dw_image_matches) as cheaply as it is taken. */
#define DW_IMAGE_MAX_SECTIONS 16
struct dw_image_plan {
	size_t n;
	struct { const char *name; Elf_Scn *scn; bool zlib_gnu; size_t len, off; } sec[DW_IMAGE_MAX_SECTIONS];
	size_t strtab_off, strtab_len, sh_off, len;
	GElf_Ehdr eh;
};

/* The uncompressed size of a section without inflating it. */
static bool dw_section_size(Elf_Scn *scn, const GElf_Shdr *sh, bool zlib_gnu, size_t *ret)
{
	if (sh->sh_flags & SHF_COMPRESSED) {
		GElf_Chdr ch;
		if (!gelf_getchdr(scn, &ch))
			return false;
		*ret = ch.ch_size;
		return ch.ch_size == *ret;
	}
	if (zlib_gnu) { /* "ZLIB" then the size, 8 bytes big-endian */
		Elf_Data *d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 12 || memcmp(d->d_buf, "ZLIB", 4) != 0)
			return false;
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | ((const unsigned char *)d->d_buf)[4 + i];
		*ret = v;
		return v == *ret;
	}
	*ret = sh->sh_size;
	return sh->sh_size == *ret;
}

static bool dw_image_plan(struct dw *dw, struct dw_image_plan *pl)
{
	size_t shstrndx;
	memset(pl, 0, sizeof(*pl));
	if (!gelf_getehdr(dw->elf, &pl->eh) || pl->eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    pl->eh.e_ident[EI_DATA] != ELFDATA2LSB || elf_getshdrstrndx(dw->elf, &shstrndx) != 0)
		return false;
	size_t data_len = 0;
	pl->strtab_len = 1 + sizeof(".shstrtab");
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(dw->elf, scn)) && pl->n < DW_IMAGE_MAX_SECTIONS) {
		GElf_Shdr sh;
		const char *raw, *name;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !(raw = elf_strptr(dw->elf, shstrndx, sh.sh_name)) || !(name = dw_image_name(raw)))
			continue;
		size_t k = pl->n, len;
		bool zlib_gnu = raw[1] == 'z';
		if (!dw_section_size(scn, &sh, zlib_gnu, &len) || len > UINT32_MAX)
			return false;
		pl->sec[k].name = name;
		pl->sec[k].scn = scn;
		pl->sec[k].zlib_gnu = zlib_gnu;
		pl->sec[k].len = len;
		data_len += dw_align16(len);
		pl->strtab_len += strlen(name) + 1;
		pl->n++;
	}
	if (!pl->n || data_len > UINT32_MAX)
		return false;
	size_t off = dw_align16(sizeof(Elf64_Ehdr));
	for (size_t i = 0; i < pl->n; i++) {
		pl->sec[i].off = off;
		off += dw_align16(pl->sec[i].len);
	}
	pl->strtab_off = off;
	pl->sh_off = dw_align16(pl->strtab_off + pl->strtab_len);
	pl->len = pl->sh_off + (pl->n + 2) * sizeof(Elf64_Shdr);
	return pl->len <= UINT32_MAX; /* names are 32-bit offsets in the cache */
}

/* Writes the ELF header, section headers and section name table of the
 * planned image into img (pl->len bytes, zeroed); the sections' bytes are
 * the caller's. */
static void dw_image_headers(const struct dw_image_plan *pl, unsigned char *img)
{
	Elf64_Ehdr *e = (Elf64_Ehdr *)img;
	memcpy(e->e_ident, pl->eh.e_ident, EI_NIDENT);
	e->e_type = pl->eh.e_type;
	e->e_machine = pl->eh.e_machine;
	e->e_version = EV_CURRENT;
	e->e_shoff = pl->sh_off;
	e->e_ehsize = sizeof(Elf64_Ehdr);
	e->e_shentsize = sizeof(Elf64_Shdr);
	e->e_shnum = pl->n + 2;
	e->e_shstrndx = pl->n + 1;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + pl->sh_off);
	char *strtab = (char *)img + pl->strtab_off;
	size_t soff = 1;
	for (size_t i = 0; i < pl->n; i++) {
		sh[i + 1] = (Elf64_Shdr){ .sh_name = soff, .sh_type = SHT_PROGBITS,
					  .sh_offset = pl->sec[i].off, .sh_size = pl->sec[i].len,
					  .sh_addralign = 1 };
		strcpy(strtab + soff, pl->sec[i].name);
		soff += strlen(pl->sec[i].name) + 1;
	}
	sh[pl->n + 1] = (Elf64_Shdr){ .sh_name = soff, .sh_type = SHT_STRTAB, .sh_offset = pl->strtab_off,
				      .sh_size = pl->strtab_len, .sh_addralign = 1 };
	strcpy(strtab + soff, ".shstrtab");
}

/* Builds dw->img: an ELF64 file with the chosen sections, uncompressed.
 * false: not possible here (not ELF64 little-endian, a section that does not
 * inflate): the caller gives libdw the file itself. */
static bool dw_build_image(struct dw *dw)
{
	struct dw_image_plan pl;
	if (!dw_image_plan(dw, &pl))
		return false;
	const void *data[DW_IMAGE_MAX_SECTIONS];
	for (size_t i = 0; i < pl.n; i++) {
		Elf_Scn *scn = pl.sec[i].scn;
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) ||
		    ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0) ||
		    (pl.sec[i].zlib_gnu && elf_compress_gnu(scn, 0, 0) < 0))
			return false;
		Elf_Data *d = elf_getdata(scn, NULL);
		/* The size the header promised, or the plan is not the image. */
		if (!d || (d->d_size && !d->d_buf) || d->d_size != pl.sec[i].len)
			return false;
		data[i] = d->d_buf;
	}
	unsigned char *img = calloc(1, pl.len);
	if (!img)
		return false;
	dw_image_headers(&pl, img);
	for (size_t i = 0; i < pl.n; i++)
		if (pl.sec[i].len)
			memcpy(img + pl.sec[i].off, data[i], pl.sec[i].len);
	dw->img = img;
	dw->img_len = pl.len;
	return true;
}

/* Is img (a cached image) laid out exactly as dw_build_image lays out this
 * executable's sections: the same ELF header, sections of the same names and
 * uncompressed sizes at the same offsets, the same name table? The bytes of
 * the sections are DWARF, read by libdw like any file's. */
static bool dw_image_matches(struct dw *dw, const unsigned char *img, size_t len)
{
	struct dw_image_plan pl;
	if (!dw_image_plan(dw, &pl) || pl.len != len)
		return false;
	/* Zeroed pages cost nothing until touched: only the header and the
	 * tail (name table, section headers) are written and compared. */
	unsigned char *want = calloc(1, pl.len);
	if (!want)
		return false;
	dw_image_headers(&pl, want);
	bool ok = memcmp(img, want, sizeof(Elf64_Ehdr)) == 0 &&
		  memcmp(img + pl.strtab_off, want + pl.strtab_off, pl.len - pl.strtab_off) == 0;
	free(want);
	return ok;
}

/* The cache key (the build ID in hex; a Go build ID note's hash when there is
 * no GNU one) and the fingerprint that must match: the key, the file's size,
 * every section header, and our format. */
static bool dw_cache_key(struct dw *dw, char *key, size_t keylen, uint64_t *fp)
{
	uint64_t h = cache_hash(CACHE_HASH_INIT, "dwidx", 5);
	const unsigned int format = DW_CACHE_FORMAT;
	h = cache_hash(h, &format, sizeof(format));
	if (dw->build_id_len && 2 * dw->build_id_len < keylen) {
		for (size_t i = 0; i < dw->build_id_len; i++)
			snprintf(key + 2 * i, 3, "%02x", dw->build_id[i]);
		h = cache_hash(h, dw->build_id, dw->build_id_len);
	} else {
		key[0] = 0;
	}
	size_t shstrndx;
	if (elf_getshdrstrndx(dw->elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(dw->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return false;
		const char *name = elf_strptr(dw->elf, shstrndx, sh.sh_name);
		if (!key[0] && name && !strcmp(name, ".note.go.buildid")) {
			Elf_Data *d = elf_rawdata(scn, NULL);
			if (d && d->d_buf && d->d_size)
				snprintf(key, keylen, "go-%016" PRIx64,
					 cache_hash(CACHE_HASH_INIT, d->d_buf, d->d_size));
		}
		uint64_t f[5] = { sh.sh_type, sh.sh_flags, sh.sh_offset, sh.sh_size, sh.sh_addr };
		h = cache_hash(h, f, sizeof(f));
		if (name)
			h = cache_hash(h, name, strlen(name));
	}
	struct stat sb;
	if (!key[0] || fstat(dw->fd, &sb) != 0)
		return false;
	uint64_t size = (uint64_t)sb.st_size;
	*fp = cache_hash(h, &size, sizeof(size));
	return true;
}

/* Takes the image and the index from a cache entry; false: not usable. A
 * checksum proves the file intact, not its contents sane: every field is
 * checked against what this open would have made. The header against the
 * entry's size; the image against the layout dw_build_image gives this
 * executable's sections (dw_image_matches: names, uncompressed sizes,
 * offsets); the DWARF version against the image's first unit; each index
 * entry against the DIE it names (a DIE at that offset, of that tag, whose
 * name is the string the entry points at) and against the table (its slot
 * on the probe path of its name's hash, so that dw_lookup finds it), and the
 * count. What the bytes of DWARF say is libdw's to read, as in any file. */
static bool dw_cache_entries_ok(const struct dw *dw, const struct dw_cache_head *hd,
				const unsigned char *img, const unsigned char *ents)
{
	const size_t esz = sizeof(struct dw_cache_ent), mask = hd->tabsz - 1;
	/* Probe paths in one pass, starting after an empty slot (there is one:
	 * nentries < tabsz): run is the number of occupied slots up to here. */
	size_t start = 0, used = 0, run = 0;
	for (size_t i = 0; i < hd->tabsz; i++) {
		uint32_t nm;
		memcpy(&nm, ents + i * esz, sizeof(nm));
		if (nm == UINT32_MAX)
			start = (i + 1) & mask;
	}
	for (size_t k = 0; k < hd->tabsz; k++) {
		size_t i = (start + k) & mask;
		struct dw_cache_ent ce;
		memcpy(&ce, ents + i * esz, sizeof(ce));
		if (ce.name == UINT32_MAX) {
			run = 0;
			continue;
		}
		run++;
		if (ce.name >= hd->img_len || !memchr(img + ce.name, 0, hd->img_len - ce.name))
			return false;
		const char *name = (const char *)img + ce.name;
		/* dw_lookup probes from the hash's slot: no empty slot on the way. */
		if (!*name || ((i - (dw_hash(name) & mask)) & mask) >= run)
			return false;
		Dwarf_Die die;
		if (!dwarf_offdie(dw->dbg, ce.off, &die) || dwarf_dieoffset(&die) != ce.off ||
		    dwarf_tag(&die) != ce.tag || dwarf_diename(&die) != name)
			return false;
		used++;
	}
	return used == hd->nentries;
}

static bool dw_cache_take(struct dw *dw, struct cache_blob *b)
{
	struct dw_cache_head hd;
	if (b->len < sizeof(hd))
		return false;
	memcpy(&hd, b->data, sizeof(hd));
	const uint64_t img_off = dw_align16(sizeof(hd)), esz = sizeof(struct dw_cache_ent);
	if (hd.format != DW_CACHE_FORMAT || hd.img_len < sizeof(Elf64_Ehdr) || hd.img_len > UINT32_MAX ||
	    !hd.tabsz || (hd.tabsz & (hd.tabsz - 1)) || hd.nentries >= hd.tabsz ||
	    hd.tabsz > b->len / esz || b->len < img_off + dw_align16(hd.img_len) ||
	    b->len - img_off - dw_align16(hd.img_len) != hd.tabsz * esz)
		return false;
	unsigned char *img = b->data + img_off;
	const unsigned char *ents = img + dw_align16(hd.img_len);
	if (!dw_image_matches(dw, img, hd.img_len))
		return false;
	Elf *e = elf_memory((char *)img, hd.img_len);
	Dwarf *dbg = e ? dwarf_begin_elf(e, DWARF_C_READ, NULL) : NULL;
	if (!dbg) {
		if (e)
			elf_end(e);
		return false;
	}
	dw->dbg = dbg;
	/* The version dw_index takes: the first unit's. */
	Dwarf_Off next;
	size_t hsize;
	Dwarf_Die cu;
	Dwarf_Half v = 0;
	bool ok = dwarf_nextcu(dbg, 0, &next, &hsize, NULL, NULL, NULL) == 0 &&
		  dwarf_offdie(dbg, hsize, &cu) &&
		  dwarf_cu_info(cu.cu, &v, NULL, NULL, NULL, NULL, NULL, NULL) == 0 && v == hd.version &&
		  dw_cache_entries_ok(dw, &hd, img, ents);
	struct dw_entry *tab = ok ? calloc(hd.tabsz, sizeof(*tab)) : NULL;
	if (!tab) {
		dwarf_end(dbg);
		elf_end(e);
		dw->dbg = NULL;
		return false;
	}
	for (size_t i = 0; i < hd.tabsz; i++) {
		struct dw_cache_ent ce;
		memcpy(&ce, ents + i * esz, sizeof(ce));
		if (ce.name != UINT32_MAX)
			tab[i] = (struct dw_entry){ (const char *)img + ce.name, ce.off, ce.tag };
	}
	dw->img_elf = e;
	dw->img = img;
	dw->img_len = hd.img_len;
	dw->tab = tab;
	dw->tabsz = hd.tabsz;
	dw->nentries = hd.nentries;
	dw->version = (int)hd.version;
	dw->blob = *b;
	return true;
}

static void dw_cache_put(struct dw *dw, const char *key, uint64_t fp)
{
	struct dw_cache_ent *ents = malloc(dw->tabsz * sizeof(*ents));
	if (!ents) {
		snprintf(dw->cache_note, sizeof(dw->cache_note), "out of memory");
		return;
	}
	for (size_t i = 0; i < dw->tabsz; i++) {
		const char *nm = dw->tab[i].name;
		ents[i] = (struct dw_cache_ent){ UINT32_MAX, dw->tab[i].tag, dw->tab[i].off };
		if (!nm)
			continue;
		/* A name libdw found outside the image cannot be stored by offset. */
		if ((const unsigned char *)nm < dw->img || (const unsigned char *)nm >= dw->img + dw->img_len) {
			snprintf(dw->cache_note, sizeof(dw->cache_note), "a DWARF name lies outside the image");
			free(ents);
			return;
		}
		ents[i].name = (uint32_t)((const unsigned char *)nm - dw->img);
	}
	struct dw_cache_head hd = { DW_CACHE_FORMAT, (uint32_t)dw->version, dw->img_len, dw->tabsz,
				    dw->nentries };
	static const unsigned char zeros[16];
	size_t hpad = dw_align16(sizeof(hd)) - sizeof(hd), ipad = dw_align16(dw->img_len) - dw->img_len;
	struct cache_part parts[] = {
		{ &hd, sizeof(hd) }, { zeros, hpad }, { dw->img, dw->img_len }, { zeros, ipad },
		{ ents, dw->tabsz * sizeof(*ents) },
	};
	char why[128];
	if (cache_store(key, "dwidx", fp, parts, sizeof(parts) / sizeof(parts[0]), why, sizeof(why))) {
		dw->cache_state = DW_CACHE_STORED;
		char *path = cache_path(key, "dwidx");
		snprintf(dw->cache_note, sizeof(dw->cache_note), "%s", path ? path : "");
		free(path);
	} else {
		dw->cache_state = DW_CACHE_FAILED;
		snprintf(dw->cache_note, sizeof(dw->cache_note), "%s", why);
	}
	free(ents);
}

/* Gives dw its Dwarf and name index: from the cache, else built (and cached). */
static struct ct_error *dw_load(struct dw *dw)
{
	char key[160];
	uint64_t fp = 0;
	bool keyed = cache_dir() && dw_cache_key(dw, key, sizeof(key), &fp);
	dw->cache_state = !cache_dir() ? DW_CACHE_OFF : keyed ? DW_CACHE_FAILED : DW_CACHE_UNKEYED;
	if (keyed) {
		struct cache_blob b;
		char why[128];
		if (cache_load(key, "dwidx", fp, &b, why, sizeof(why))) {
			if (dw_cache_take(dw, &b)) {
				dw->cache_state = DW_CACHE_HIT;
				char *path = cache_path(key, "dwidx");
				snprintf(dw->cache_note, sizeof(dw->cache_note), "%s", path ? path : "");
				free(path);
				return NULL;
			}
			cache_release(&b);
		}
	}
	if (dw_build_image(dw)) {
		dw->img_elf = elf_memory((char *)dw->img, dw->img_len);
		if (dw->img_elf)
			dw->dbg = dwarf_begin_elf(dw->img_elf, DWARF_C_READ, NULL);
	}
	if (!dw->dbg) /* the file itself, as libdw would read it */
		dw->dbg = dwarf_begin_elf(dw->elf, DWARF_C_READ, NULL);
	if (!dw->dbg)
		return ct_error_fmt(CT_ERR_NODWARF, "executable %s: dwarf_begin_elf: %s", dw->path,
				    dwarf_errmsg(-1));
	struct ct_error *err = dw_index(dw);
	if (err)
		return err;
	if (keyed && dw->img && dw->img_elf)
		dw_cache_put(dw, key, fp);
	return NULL;
}

/* The section header table as the ELF header declares it (e_shoff, e_shnum,
 * e_shentsize; the real count in section 0's sh_size when e_shnum is 0, the
 * name table's index in its sh_link when e_shstrndx is SHN_XINDEX), checked
 * against the file's size in 64-bit arithmetic. No table at all (e_shoff 0,
 * e_shnum 0) is a binary stripped of it: not an error here. */
static struct ct_error *dw_check_shdrs(struct dw *dw, const char *path, const GElf_Ehdr *eh)
{
	size_t fsize = 0;
	const unsigned char *raw = (const unsigned char *)elf_rawfile(dw->elf, &fsize);
	const bool is64 = eh->e_ident[EI_CLASS] == ELFCLASS64, msb = eh->e_ident[EI_DATA] == ELFDATA2MSB;
	const uint64_t entsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	uint64_t shoff = eh->e_shoff, shnum = eh->e_shnum, strndx = eh->e_shstrndx;
	if (!raw)
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: cannot read the file: %s", path,
				    elf_errmsg(-1));
	if (!shoff) {
		if (!shnum)
			return NULL;
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: damaged ELF header: %" PRIu64
				    " section headers at offset 0", path, shnum);
	}
	if (eh->e_shentsize != entsz)
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: damaged ELF header: section "
				    "header size %u, not %" PRIu64, path, eh->e_shentsize, entsz);
	if (shoff > fsize || fsize - shoff < entsz)
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: section headers cut off: the table "
				    "starts at offset %" PRIu64 ", the file has %zu bytes (truncated?)",
				    path, shoff, fsize);
	if (!shnum || strndx == SHN_XINDEX) { /* extended numbering: section 0 says */
		const unsigned char *s0 = raw + shoff;
		uint64_t size = 0, link = 0;
		size_t so = is64 ? 32 : 20, sn = is64 ? 8 : 4, lo = is64 ? 40 : 24;
		for (size_t i = 0; i < sn; i++)
			size |= (uint64_t)s0[so + (msb ? sn - 1 - i : i)] << (8 * i);
		for (size_t i = 0; i < 4; i++)
			link |= (uint64_t)s0[lo + (msb ? 3 - i : i)] << (8 * i);
		if (!shnum)
			shnum = size;
		if (strndx == SHN_XINDEX)
			strndx = link;
	}
	if (shnum > (fsize - shoff) / entsz)
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: section headers cut off: %" PRIu64
				    " headers of %" PRIu64 " bytes at offset %" PRIu64 " end past the "
				    "file's end (%zu bytes; truncated?)", path, shnum, entsz, shoff, fsize);
	if (strndx != SHN_UNDEF && strndx >= shnum) /* SHN_UNDEF: sections without names */
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: damaged ELF header: section name "
				    "table %" PRIu64 " of %" PRIu64 " sections", path, strndx, shnum);
	size_t n = 0;
	if (elf_getshdrnum(dw->elf, &n) != 0 || n != shnum)
		return ct_error_fmt(CT_ERR_FORMAT, "executable %s: damaged: libelf reads %zu of its %"
				    PRIu64 " section headers", path, n, shnum);
	return NULL;
}

struct ct_error *dw_open(const char *path, struct dw **ret)
{
	struct ct_error *err = NULL;
	struct dw *dw = calloc(1, sizeof(*dw));
	if (!dw)
		return ct_error_fmt(CT_ERR_NOMEM, "out of memory");
	dw->fd = ct_open_regular(path);
	dw->path = strdup(path);
	if (dw->fd < 0) {
		err = errno == EINVAL ? ct_error_fmt(CT_ERR_FORMAT, "executable %s: not a regular file", path)
				      : ct_error_fmt(CT_ERR_IO, "executable %s: %s", path, strerror(errno));
		goto fail;
	}
	elf_version(EV_CURRENT);
	dw->elf = elf_begin(dw->fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!dw->elf || elf_kind(dw->elf) != ELF_K_ELF || !gelf_getehdr(dw->elf, &eh)) {
		err = ct_error_fmt(CT_ERR_FORMAT, "executable %s: not an ELF file", path);
		goto fail;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		err = ct_error_fmt(CT_ERR_FORMAT, "executable %s: not an executable (ELF type %u)",
				   path, eh.e_type);
		goto fail;
	}
	/* A cut or damaged file loses its section headers, and with them the
	 * DWARF and the marks of a Go binary: say so rather than report a C
	 * program without debug info. libelf reports no sections at all when
	 * the table does not fit in the file: the raw header says what it is. */
	if ((err = dw_check_shdrs(dw, path, &eh)))
		goto fail;
	dw->entry = eh.e_entry;
	const void *id;
	ssize_t idlen = dwelf_elf_gnu_build_id(dw->elf, &id);
	if (idlen > 0 && (size_t)idlen <= sizeof(dw->build_id)) {
		memcpy(dw->build_id, id, idlen);
		dw->build_id_len = idlen;
	}
	if (!dw_has_debug_info(dw)) {
		/* Not fatal here: a C program may lack DWARF and still be classified by
		 * its symbols. The caller decides (a Go program needs DWARF). */
		*ret = dw;
		return NULL;
	}
	if ((err = dw_load(dw)))
		goto fail;
	*ret = dw;
	return NULL;
fail:
	dw_close(dw);
	return err;
}

struct ct_error *dw_require(const struct dw *dw)
{
	if (dw->dbg)
		return NULL;
	return ct_error_fmt(CT_ERR_NODWARF,
			    "executable %s has no DWARF (.debug_info): it was stripped%s; "
			    "rebuild without them or pass the unstripped binary with --exe",
			    dw->path, dw->is_go ? " (go build -ldflags=-w or -s, or strip)" : " (strip, or built without -g)");
}

#define DW_SCOPE_SLOTS 4096
struct dw_scope_ent {
	uint64_t pc;
	const void *unit; /* the unit DIE's address in the debug data: 0 free */
	int n;
	Dwarf_Die *scopes;
};

void dw_close(struct dw *dw)
{
	if (!dw)
		return;
	if (dw->scopes) {
		for (size_t i = 0; i < DW_SCOPE_SLOTS; i++)
			free(dw->scopes[i].scopes);
		free(dw->scopes);
	}
	if (dw->dbg)
		dwarf_end(dw->dbg);
	if (dw->img_elf)
		elf_end(dw->img_elf);
	if (dw->blob.map)
		cache_release(&dw->blob);
	else
		free(dw->img);
	if (dw->elf)
		elf_end(dw->elf);
	if (dw->fd >= 0)
		close(dw->fd);
	free(dw->tab);
	free(dw->cus);
	free(dw->path);
	free(dw);
}

bool dw_lookup(const struct dw *dw, const char *name, int tag, Dwarf_Die *ret)
{
	if (!dw->tabsz)
		return false;
	size_t j = dw_hash(name) & (dw->tabsz - 1);
	for (; dw->tab[j].name; j = (j + 1) & (dw->tabsz - 1)) {
		const struct dw_entry *e = &dw->tab[j];
		if ((tag == 0 || e->tag == tag) && strcmp(e->name, name) == 0)
			return dwarf_offdie(dw->dbg, e->off, ret) != NULL;
	}
	return false;
}

static bool dw_is_type_tag(int tag)
{
	switch (tag) {
	case DW_TAG_structure_type: case DW_TAG_base_type: case DW_TAG_typedef:
	case DW_TAG_pointer_type: case DW_TAG_array_type: case DW_TAG_subroutine_type:
	case DW_TAG_union_type: case DW_TAG_unspecified_type:
		return true;
	}
	return false;
}

bool dw_type(const struct dw *dw, const char *name, Dwarf_Die *ret)
{
	if (!dw->tabsz)
		return false;
	size_t j = dw_hash(name) & (dw->tabsz - 1);
	for (; dw->tab[j].name; j = (j + 1) & (dw->tabsz - 1)) {
		const struct dw_entry *e = &dw->tab[j];
		if (dw_is_type_tag(e->tag) && strcmp(e->name, name) == 0)
			return dwarf_offdie(dw->dbg, e->off, ret) != NULL;
	}
	return false;
}

bool dw_type_of(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, ret);
}

bool dw_peel(Dwarf_Die *type, Dwarf_Die *ret)
{
	Dwarf_Die cur = *type;
	/* Bounded: a cyclic typedef chain in a damaged binary must not hang us. */
	for (int i = 0; i < 64; i++) {
		int tag = dwarf_tag(&cur);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type) {
			*ret = cur;
			return true;
		}
		if (!dw_type_of(&cur, &cur))
			return false;
	}
	return false;
}

bool dw_size(Dwarf_Die *type, uint64_t *ret)
{
	Dwarf_Die t;
	if (!dw_peel(type, &t))
		return false;
	if (dwarf_tag(&t) == DW_TAG_pointer_type) {
		*ret = 8;
		return true;
	}
	Dwarf_Word sz;
	if (dwarf_aggregate_size(&t, &sz) != 0)
		return false;
	*ret = sz;
	return true;
}

void dw_members_begin(Dwarf_Die *type, struct dw_members *it)
{
	Dwarf_Die st;
	it->more = dw_peel(type, &st) && dwarf_child(&st, &it->child) == 0;
}

bool dw_members_next(struct dw_members *it, Dwarf_Die *member, const char **name, uint64_t *offset)
{
	while (it->more) {
		Dwarf_Die c = it->child;
		it->more = dwarf_siblingof(&it->child, &it->child) == 0;
		const char *n = dwarf_diename(&c);
		if (dwarf_tag(&c) != DW_TAG_member || !n)
			continue;
		/* No DW_AT_data_member_location: the first member of a struct, at 0. */
		Dwarf_Attribute a;
		Dwarf_Word off = 0;
		if (dwarf_attr(&c, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &off) != 0)
			continue;
		*member = c;
		*name = n;
		*offset = off;
		return true;
	}
	return false;
}

bool dw_member(Dwarf_Die *type, const char *name, uint64_t *offset, Dwarf_Die *ret)
{
	struct dw_members it;
	Dwarf_Die m;
	const char *n;
	uint64_t off;
	dw_members_begin(type, &it);
	while (dw_members_next(&it, &m, &n, &off)) {
		if (strcmp(n, name) != 0)
			continue;
		if (offset)
			*offset = off;
		if (ret)
			*ret = m;
		return true;
	}
	return false;
}

struct ct_error *dw_struct_size(const struct dw *dw, const char *type, uint64_t *ret)
{
	Dwarf_Die t;
	if (!dw_type(dw, type, &t))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no type %s", type);
	if (!dw_size(&t, ret))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF type %s has no size", type);
	return NULL;
}

struct ct_error *dw_member_offset(const struct dw *dw, const char *type, const char *member,
				  uint64_t *ret)
{
	Dwarf_Die t;
	if (!dw_type(dw, type, &t))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no type %s", type);
	if (!dw_member(&t, member, ret, NULL))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF type %s has no member %s", type, member);
	return NULL;
}

struct ct_error *dw_field(const struct dw *dw, const char *type, const char *member,
			  struct dw_field *ret)
{
	Dwarf_Die t, m, mt;
	if (!dw_type(dw, type, &t))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no type %s", type);
	if (!dw_member(&t, member, &ret->off, &m))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF type %s has no member %s", type, member);
	if (!dw_type_of(&m, &mt) || !dw_size(&mt, &ret->size))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF member %s.%s has no size", type, member);
	return NULL;
}

struct ct_error *dw_const(const struct dw *dw, const char *name, int64_t *ret)
{
	Dwarf_Die d;
	Dwarf_Attribute a;
	Dwarf_Sword v;
	if (!dw_lookup(dw, name, DW_TAG_constant, &d))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no constant %s", name);
	if (!dwarf_attr(&d, DW_AT_const_value, &a) || dwarf_formsdata(&a, &v) != 0)
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF constant %s has no value", name);
	*ret = v;
	return NULL;
}

bool dw_static_addr(Dwarf_Die *d, uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;
	Dwarf_Block blk;
	if (!dwarf_attr(d, DW_AT_location, &a))
		return false;
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 && ops[0].atom == DW_OP_addr) {
		*ret = ops[0].number;
		return true;
	}
	/* Go's linker writes locations as DW_FORM_block1 even in DWARF 5, where
	 * libdw expects exprloc and declines; decode the one DW_OP_addr ourselves. */
	if (dwarf_formblock(&a, &blk) == 0 && blk.length == 9 && blk.data[0] == DW_OP_addr) {
		uint64_t v = 0;
		for (int i = 8; i >= 1; i--)
			v = v << 8 | blk.data[i];
		*ret = v;
		return true;
	}
	return false;
}

struct ct_error *dw_var_addr(const struct dw *dw, const char *name, uint64_t *ret)
{
	Dwarf_Die d;
	Dwarf_Attribute a;
	if (!dw_lookup(dw, name, DW_TAG_variable, &d))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF has no variable %s", name);
	if (!dwarf_attr(&d, DW_AT_location, &a))
		return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF variable %s has no location", name);
	if (dw_static_addr(&d, ret))
		return NULL;
	return ct_error_fmt(CT_ERR_NOTFOUND, "DWARF variable %s has no static address", name);
}

int dw_go_kind(Dwarf_Die *type)
{
	Dwarf_Attribute a;
	Dwarf_Word k;
	if (!dwarf_attr(type, DW_AT_go_kind, &a) || dwarf_formudata(&a, &k) != 0)
		return -1;
	return (int)k;
}

void dw_foreach(const struct dw *dw, int tag, bool (*fn)(const struct dw_entry *e, void *arg),
		void *arg)
{
	for (size_t i = 0; i < dw->tabsz; i++)
		if (dw->tab[i].name && (tag == 0 || dw->tab[i].tag == tag) && !fn(&dw->tab[i], arg))
			return;
}

static int dw_cu_cmp(const void *a, const void *b)
{
	const struct dw_cu_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)y->go - (int)x->go; /* Go units first on a tie */
}

static void dw_index_cus(struct dw *dw)
{
	dw->cus_done = true;
	if (!dw->dbg)
		return;
	size_t cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dw->dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw->dbg, off + hsize, &cu)) {
			Dwarf_Attribute a;
			Dwarf_Word lang = 0;
			if (dwarf_attr(&cu, DW_AT_language, &a))
				dwarf_formudata(&a, &lang);
			Dwarf_Addr base, lo, hi;
			ptrdiff_t it = 0;
			while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0) {
				if (hi <= lo)
					continue;
				if (dw->ncus == cap) {
					size_t ncap = cap ? cap * 2 : 1024;
					struct dw_cu_range *n = realloc(dw->cus, ncap * sizeof(*n));
					if (!n)
						return;
					dw->cus = n;
					cap = ncap;
				}
				dw->cus[dw->ncus++] = (struct dw_cu_range){ lo, hi, off + hsize,
									 lang == DW_LANG_Go };
			}
		}
		off = next;
	}
	if (dw->ncus)
		qsort(dw->cus, dw->ncus, sizeof(*dw->cus), dw_cu_cmp);
}

/* The unit holding pc, and its line row there. */
static bool dw_unit_of(struct dw *dw, uint64_t pc, Dwarf_Die *cu, Dwarf_Line **line, bool *go)
{
	if (!dw->cus_done)
		dw_index_cus(dw);
	/* The last range starting at or below pc; ranges of Go units do not overlap,
	 * but a C unit may claim a wide range: look back a few for a tighter one. */
	size_t lo = CT_UPPER_BOUND(dw->cus, dw->ncus, lo, pc);
	for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
		const struct dw_cu_range *r = &dw->cus[i];
		if (pc < r->lo || pc >= r->hi)
			continue;
		if (!dwarf_offdie(dw->dbg, r->cu, cu) || !(*line = dwarf_getsrc_die(cu, pc)))
			continue;
		if (go)
			*go = r->go;
		return true;
	}
	return false;
}

bool dw_unit_die(struct dw *dw, uint64_t pc, Dwarf_Die *cu)
{
	Dwarf_Line *l;
	return dw_unit_of(dw, pc, cu, &l, NULL);
}

bool dw_line(struct dw *dw, uint64_t pc, const char **file, int *line, bool *go)
{
	Dwarf_Die cu;
	Dwarf_Line *l;
	if (!dw_unit_of(dw, pc, &cu, &l, go))
		return false;
	const char *f = dwarf_linesrc(l, NULL, NULL);
	int n;
	if (!f || dwarf_lineno(l, &n) != 0)
		return false;
	*file = f;
	*line = n;
	return true;
}

/* A DIE's name, through DW_AT_abstract_origin / DW_AT_specification. */
static const char *dw_integrated_name(Dwarf_Die *die)
{
	Dwarf_Attribute at;
	const char *n = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &at))
		n = dwarf_formstring(&at);
	if (!n && dwarf_attr_integrate(die, DW_AT_name, &at))
		n = dwarf_formstring(&at);
	return n;
}

int dw_scopes(struct dw *dw, Dwarf_Die *cu, uint64_t pc, Dwarf_Die **ret)
{
	*ret = NULL;
	if (!dw->scopes && !(dw->scopes = calloc(DW_SCOPE_SLOTS, sizeof(*dw->scopes))))
		return dwarf_getscopes(cu, pc, ret);
	struct dw_scope_ent *e = &dw->scopes[ct_hash_slot(pc ^ (uint64_t)(uintptr_t)cu->addr, DW_SCOPE_SLOTS)];
	if (!(e->unit == cu->addr && e->pc == pc)) {
		free(e->scopes);
		*e = (struct dw_scope_ent){ pc, cu->addr, 0, NULL };
		e->n = dwarf_getscopes(cu, pc, &e->scopes);
		if (e->n <= 0) {
			free(e->scopes);
			e->scopes = NULL;
		}
	}
	if (e->n <= 0)
		return e->n;
	Dwarf_Die *copy = malloc((size_t)e->n * sizeof(*copy));
	if (!copy)
		return -1;
	memcpy(copy, e->scopes, (size_t)e->n * sizeof(*copy));
	*ret = copy;
	return e->n;
}

size_t dw_inlined_at(struct dw *dw, uint64_t pc, struct dw_inlined *ret, size_t max)
{
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Line *l;
	if (!max || !dw_unit_of(dw, pc, &cu, &l, NULL))
		return 0;
	int n = dw_scopes(dw, &cu, pc, &scopes);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	dwarf_getsrcfiles(&cu, &files, &nfiles);
	size_t k = 0;
	for (int i = 0; i < n && k < max; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		Dwarf_Attribute at;
		Dwarf_Word fi = 0, ln = 0;
		struct dw_inlined *r = &ret[k];
		r->func = dw_integrated_name(&scopes[i]);
		r->call_file = NULL;
		r->call_line = 0;
		if (dwarf_attr(&scopes[i], DW_AT_call_file, &at) && dwarf_formudata(&at, &fi) == 0 && files &&
		    fi < nfiles)
			r->call_file = dwarf_filesrc(files, fi, NULL, NULL);
		if (dwarf_attr(&scopes[i], DW_AT_call_line, &at) && dwarf_formudata(&at, &ln) == 0)
			r->call_line = (int)ln;
		if (r->func)
			k++;
	}
	free(scopes);
	return k;
}

bool dw_array(Dwarf_Die *type, Dwarf_Die *elem, uint64_t *esize, uint64_t *count)
{
	Dwarf_Die a, child;
	if (!dw_peel(type, &a) || dwarf_tag(&a) != DW_TAG_array_type || !dw_type_of(&a, elem) ||
	    !dw_size(elem, esize) || dwarf_child(&a, &child) != 0)
		return false;
	do {
		Dwarf_Attribute at;
		Dwarf_Word n;
		if (dwarf_tag(&child) != DW_TAG_subrange_type)
			continue;
		if (dwarf_attr(&child, DW_AT_count, &at) && dwarf_formudata(&at, &n) == 0) {
			*count = n;
			return true;
		}
		if (dwarf_attr(&child, DW_AT_upper_bound, &at) && dwarf_formudata(&at, &n) == 0) {
			*count = n + 1;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}
