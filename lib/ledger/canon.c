/*
 * canon.c - canonical JSON as Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True) writes it.
 *
 * What Python does, and therefore what this file does:
 *   - strings: `"` and `\` escaped with a backslash; \n \r \t \b \f in their
 *     short forms; every other code point below 0x20, 0x7f (DEL) and every
 *     code point above 0x7e as \uXXXX in *lowercase* hex, code points above
 *     0xffff as a UTF-16 surrogate pair.  `/` is not escaped.
 *   - objects: keys sorted by code point (for UTF-8 that is byte order), no
 *     whitespace; arrays likewise.
 *   - integers as they are; floats as repr(): the shortest decimal that reads
 *     back as the same double, with ".0" on integral values and the exponent
 *     form ("1e-05", "1e+16") outside [1e-4, 1e16).
 *
 * The scanner answers the converse question, "is this text already
 * canonical?", by walking the bytes once and checking every rule above; it is
 * the fast path of the ledger checker (chain.c).  When it says yes, the text
 * with the hash member cut out is exactly what contend_canon_dump() would
 * produce from the parsed record, so hashing the bytes is hashing the
 * canonical form.  When in doubt it says no, and the caller parses.
 */
#include "canon.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- buffer -------------------------------------------------------------- */

void contend_sbuf_reserve(struct contend_sbuf *b, size_t more)
{
    if (b->n + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more)
        cap *= 2;
    b->p = contend_realloc(b->p, cap);
    b->cap = cap;
}

void contend_sbuf_add(struct contend_sbuf *b, const void *data, size_t n)
{
    contend_sbuf_reserve(b, n);
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

void contend_sbuf_free(struct contend_sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- strings ------------------------------------------------------------- */

/* 1 for the bytes a canonical string holds as they are: printable ASCII
 * except `"` and `\`. */
static const unsigned char plain[256] = {
#define P1(c) [c] = 1
    P1(' '), P1('!'), P1('#'), P1('$'), P1('%'), P1('&'), P1('\''), P1('('), P1(')'), P1('*'),
    P1('+'), P1(','), P1('-'), P1('.'), P1('/'), P1('0'), P1('1'),  P1('2'), P1('3'), P1('4'),
    P1('5'), P1('6'), P1('7'), P1('8'), P1('9'), P1(':'), P1(';'),  P1('<'), P1('='), P1('>'),
    P1('?'), P1('@'), P1('A'), P1('B'), P1('C'), P1('D'), P1('E'),  P1('F'), P1('G'), P1('H'),
    P1('I'), P1('J'), P1('K'), P1('L'), P1('M'), P1('N'), P1('O'),  P1('P'), P1('Q'), P1('R'),
    P1('S'), P1('T'), P1('U'), P1('V'), P1('W'), P1('X'), P1('Y'),  P1('Z'), P1('['), P1(']'),
    P1('^'), P1('_'), P1('`'), P1('a'), P1('b'), P1('c'), P1('d'),  P1('e'), P1('f'), P1('g'),
    P1('h'), P1('i'), P1('j'), P1('k'), P1('l'), P1('m'), P1('n'),  P1('o'), P1('p'), P1('q'),
    P1('r'), P1('s'), P1('t'), P1('u'), P1('v'), P1('w'), P1('x'),  P1('y'), P1('z'), P1('{'),
    P1('|'), P1('}'), P1('~'),
#undef P1
};

static const char hexdig[] = "0123456789abcdef";

static void put_u16(struct contend_sbuf *b, unsigned cp)
{
    char *o = b->p + b->n;
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hexdig[(cp >> 12) & 15];
    o[3] = hexdig[(cp >> 8) & 15];
    o[4] = hexdig[(cp >> 4) & 15];
    o[5] = hexdig[cp & 15];
    b->n += 6;
}

/* Decode one UTF-8 sequence at s[0..n); returns its length, 0 when invalid.
 * Strict: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        if (n < 2 || (s[1] & 0xc0) != 0x80)
            return 0;
        *cp = ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        unsigned v = ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
        if (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))
            return 0;
        *cp = v;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        unsigned v =
            ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
        if (v < 0x10000 || v > 0x10ffff)
            return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

/* Python's two-character escapes: the character after the backslash, 0 for
 * none (json.dumps writes every other control character as a u-escape). */
static const char short_escape[0x60] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',  ['\f'] = 'f',
    ['\r'] = 'r', ['"'] = '"',  ['\\'] = '\\',
};

int contend_canon_string(struct contend_sbuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    /* Worst case: every byte a 6-byte escape, plus the quotes. */
    contend_sbuf_reserve(b, n * 6 + 2);
    b->p[b->n++] = '"';
    while (s < end) {
        const unsigned char *run = s;
        while (s < end && plain[*s])
            s++;
        if (s > run) {
            memcpy(b->p + b->n, run, (size_t)(s - run));
            b->n += (size_t)(s - run);
        }
        if (s >= end)
            break;
        unsigned cp;
        size_t len = utf8_decode(s, (size_t)(end - s), &cp);
        if (len == 0)
            return -EILSEQ;
        s += len;
        if (cp < sizeof short_escape && short_escape[cp]) {
            b->p[b->n++] = '\\';
            b->p[b->n++] = short_escape[cp];
            continue;
        }
        if (cp > 0xffff) {
            /* Four UTF-8 bytes become two 6-byte escapes: within the reserve. */
            cp -= 0x10000;
            put_u16(b, 0xd800 | (cp >> 10));
            put_u16(b, 0xdc00 | (cp & 0x3ff));
        } else {
            put_u16(b, cp);
        }
    }
    b->p[b->n++] = '"';
    return 0;
}

/* ---- floats -------------------------------------------------------------- */

/* Does `prec` significant digits read back as v? */
static bool round_trips(double v, int prec, char *tmp, size_t len)
{
    snprintf(tmp, len, "%.*e", prec - 1, v);
    return strtod(tmp, NULL) == v;
}

int contend_canon_double(double v, char buf[CONTEND_CANON_DOUBLE_MAX])
{
    if (isnan(v))
        return snprintf(buf, CONTEND_CANON_DOUBLE_MAX, "NaN");
    if (isinf(v))
        return snprintf(buf, CONTEND_CANON_DOUBLE_MAX, v > 0 ? "Infinity" : "-Infinity");
    if (v == 0)
        return snprintf(buf, CONTEND_CANON_DOUBLE_MAX, signbit(v) ? "-0.0" : "0.0");

    /* The shortest precision that round-trips.  If p digits round-trip, so do
     * p + 1 (the correctly rounded p + 1 digits are at least as close), so a
     * binary search over 1..17 finds it; 17 always works for a double.  glibc's
     * printf rounds correctly, so the p-digit text is the nearest p-digit
     * decimal, which is what Python's repr (David Gay's mode 0) picks. */
    char tmp[40];
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (round_trips(v, mid, tmp, sizeof tmp))
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(tmp, sizeof tmp, "%.*e", lo - 1, v);

    /* tmp is "-d.ddde+XX": split into sign, digits and exponent. */
    const char *p = tmp;
    bool neg = (*p == '-');
    if (neg)
        p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp10 = atoi(p + 1);
    int decpt = exp10 + 1; /* v = 0.DIGITS x 10^decpt */

    char *o = buf;
    if (neg)
        *o++ = '-';
    if (decpt <= -4 || decpt > 16) {
        /* 1e-05, 1.5e+16 */
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (decpt <= 0) {
        /* 0.000123 */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -decpt; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else if (decpt < nd) {
        /* 123.456 */
        memcpy(o, digits, (size_t)decpt);
        o += decpt;
        *o++ = '.';
        memcpy(o, digits + decpt, (size_t)(nd - decpt));
        o += nd - decpt;
    } else {
        /* 123000.0 */
        memcpy(o, digits, (size_t)nd);
        o += nd;
        for (int i = nd; i < decpt; i++)
            *o++ = '0';
        *o++ = '.';
        *o++ = '0';
    }
    *o = '\0';
    return (int)(o - buf);
}

/* ---- jansson values ------------------------------------------------------ */

struct member {
    const char *key;
    size_t len;
    json_t *value;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int dump(const json_t *v, const char *skip_key, struct contend_sbuf *b);

static int dump_object(const json_t *v, const char *skip_key, struct contend_sbuf *b)
{
    size_t n = json_object_size(v), k = 0;
    struct member stack[16];
    struct member *m = n <= 16 ? stack : contend_calloc(n, sizeof *m);
    const char *key;
    size_t klen;
    json_t *val;
    int rc = 0;

    json_object_keylen_foreach((json_t *)v, key, klen, val)
    {
        if (skip_key && strlen(skip_key) == klen && memcmp(skip_key, key, klen) == 0)
            continue;
        m[k++] = (struct member){.key = key, .len = klen, .value = val};
    }
    /* Python sorts str keys by code point; UTF-8 byte order is the same. */
    qsort(m, k, sizeof m[0], cmp_member);
    contend_sbuf_add(b, "{", 1);
    for (size_t i = 0; i < k && rc == 0; i++) {
        if (i)
            contend_sbuf_add(b, ",", 1);
        rc = contend_canon_string(b, m[i].key, m[i].len);
        if (rc == 0) {
            contend_sbuf_add(b, ":", 1);
            rc = dump(m[i].value, NULL, b);
        }
    }
    contend_sbuf_add(b, "}", 1);
    if (m != stack)
        free(m);
    return rc;
}

static int dump(const json_t *v, const char *skip_key, struct contend_sbuf *b)
{
    char num[CONTEND_CANON_DOUBLE_MAX];
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return dump_object(v, skip_key, b);
    case JSON_ARRAY:
        contend_sbuf_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
            if (i)
                contend_sbuf_add(b, ",", 1);
            rc = dump(json_array_get(v, i), NULL, b);
        }
        contend_sbuf_add(b, "]", 1);
        return rc;
    case JSON_STRING: return contend_canon_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        contend_sbuf_add(b, num, (size_t)n);
        return 0;
    }
    case JSON_REAL: {
        int n = contend_canon_double(json_real_value(v), num);
        contend_sbuf_add(b, num, (size_t)n);
        return 0;
    }
    case JSON_TRUE: contend_sbuf_add(b, "true", 4); return 0;
    case JSON_FALSE: contend_sbuf_add(b, "false", 5); return 0;
    case JSON_NULL: contend_sbuf_add(b, "null", 4); return 0;
    }
    return -EINVAL;
}

int contend_canon_dump(const json_t *v, const char *skip_key, struct contend_sbuf *b)
{
    if (!v)
        return -EINVAL;
    return dump(v, skip_key, b);
}

/* ---- the scanner --------------------------------------------------------- */

#define SCAN_MAX_DEPTH 64

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase hex is not canonical either */
}

static int u16_at(const char *p, const char *e)
{
    if (e - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    int v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* The first byte at or after p that a canonical string does not hold as it
 * is (a quote, a backslash, a control or non-ASCII byte), or e.  Most of a
 * ledger line is string bytes (two 64-digit hashes), so this is the scanner's
 * inner loop: 16 bytes per step with SSE2, which every x86-64 has. */
static const char *skip_plain(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(' '), del = _mm_set1_epi8(0x7f);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< ' '" catches them
         * together with the control characters. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
        int mask = _mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < e && plain[(unsigned char)*p])
        p++;
    return p;
}

/* p at the opening quote; returns the byte after the closing quote, or NULL
 * when the string is not canonical.  *escaped says whether it held escapes. */
static const char *scan_string(const char *p, const char *e, bool *escaped)
{
    p++;
    for (;;) {
        p = skip_plain(p, e);
        if (p >= e)
            return NULL;
        if (*p == '"')
            return p + 1;
        if (*p != '\\' || p + 1 >= e)
            return NULL; /* a raw control character or non-ASCII byte */
        *escaped = true;
        switch (p[1]) {
        case '"':
        case '\\':
        case 'n':
        case 'r':
        case 't':
        case 'b':
        case 'f': p += 2; continue;
        case 'u': break;
        default: return NULL; /* \/ and anything else Python never writes */
        }
        int cp = u16_at(p, e);
        if (cp < 0)
            return NULL;
        if ((cp >= 0x20 && cp < 0x7f) || cp == '\b' || cp == '\t' || cp == '\n' || cp == '\f' ||
            cp == '\r')
            return NULL; /* Python writes these literally or in short form */
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int lo = u16_at(p + 6, e);
            if (lo < 0xdc00 || lo > 0xdfff)
                return NULL;
            p += 12;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return NULL;
        } else {
            p += 6;
        }
    }
}

static const char *digits(const char *p, const char *e)
{
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* Is the float text t[0..n) what repr() writes?  The common case is decided
 * from the digits alone: a fixed-point number with at most 15 significant
 * digits (DBL_DIG) reads back to a double that prints as the same digits, and
 * no shorter text can name that double (two decimals of <= 15 digits never
 * share a double), so if it has no superfluous zeros and sits where repr uses
 * fixed notation it is canonical.  Anything else is compared with repr(). */
static bool float_canonical(const char *t, size_t n, const char *int_end, const char *frac,
                            const char *frac_end, bool has_exp)
{
    const char *ip = t + (t[0] == '-');
    size_t ilen = (size_t)(int_end - ip), flen = (size_t)(frac_end - frac);
    if (!has_exp && frac && flen > 0) {
        bool int_zero = (ilen == 1 && ip[0] == '0');
        if (flen == 1 && frac[0] == '0') {
            /* "123.0": integral; significant digits are the integer's. */
            size_t sig = ilen;
            while (sig > 1 && ip[sig - 1] == '0')
                sig--;
            if (!int_zero && sig <= 15 && ilen <= 16)
                return true;
        } else if (frac_end[-1] != '0') {
            if (!int_zero && ilen + flen <= 15)
                return true;
            if (int_zero) {
                size_t z = 0;
                while (z < flen && frac[z] == '0')
                    z++;
                if (z <= 3 && flen - z <= 15)
                    return true;
            }
        }
    }
    char tmp[64], rep[CONTEND_CANON_DOUBLE_MAX];
    if (n >= sizeof tmp || n >= CONTEND_CANON_DOUBLE_MAX)
        return false;
    memcpy(tmp, t, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return false;
    int len = contend_canon_double(v, rep);
    return (size_t)len == n && memcmp(rep, t, n) == 0;
}

/* A JSON number in canonical form; *is_int says whether it is an integer. */
static const char *scan_number(const char *p, const char *e, bool *is_int)
{
    const char *start = p;
    if (*p == '-')
        p++;
    if (p >= e)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        p = digits(p, e);
    else
        return NULL;
    const char *int_end = p, *frac = NULL, *frac_end = NULL;
    bool has_exp = false;
    if (p < e && *p == '.') {
        frac = p + 1;
        frac_end = digits(frac, e);
        if (frac_end == frac)
            return NULL;
        p = frac_end;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = digits(p, e);
        if (d == p)
            return NULL;
        p = d;
        has_exp = true;
    }
    if (!frac && !has_exp) {
        *is_int = true;
        /* Python reads -0 as the integer 0 and writes "0". */
        return (start[0] == '-' && int_end - start == 2 && start[1] == '0') ? NULL : p;
    }
    *is_int = false;
    return float_canonical(start, (size_t)(p - start), int_end, frac, frac_end, has_exp) ? p : NULL;
}

static const char *scan_value(const char *p, const char *e, int depth);

static bool key_before(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    return c < 0 || (c == 0 && an < bn);
}

static const char *scan_object(const char *p, const char *e, int depth)
{
    const char *prev_key = NULL;
    size_t prev_len = 0;
    p++;
    if (p < e && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= e || *p != '"')
            return NULL;
        bool esc = false;
        const char *k = p + 1;
        p = scan_string(p, e, &esc);
        /* Keys with escapes would need decoding to compare: slow path. */
        if (!p || esc)
            return NULL;
        size_t klen = (size_t)(p - 1 - k);
        if (prev_key && !key_before(prev_key, prev_len, k, klen))
            return NULL;
        prev_key = k;
        prev_len = klen;
        if (p >= e || *p != ':')
            return NULL;
        p = scan_value(p + 1, e, depth + 1);
        if (!p || p >= e)
            return NULL;
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return NULL;
        p++;
    }
}

static const char *scan_array(const char *p, const char *e, int depth)
{
    p++;
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        p = scan_value(p, e, depth + 1);
        if (!p || p >= e)
            return NULL;
        if (*p == ']')
            return p + 1;
        if (*p != ',')
            return NULL;
        p++;
    }
}

static const char *literal(const char *p, const char *e, const char *word, size_t n)
{
    return ((size_t)(e - p) >= n && memcmp(p, word, n) == 0) ? p + n : NULL;
}

static const char *scan_value(const char *p, const char *e, int depth)
{
    bool flag = false;
    if (p >= e || depth > SCAN_MAX_DEPTH)
        return NULL;
    switch (*p) {
    case '"': return scan_string(p, e, &flag);
    case '{': return scan_object(p, e, depth);
    case '[': return scan_array(p, e, depth);
    case 't': return literal(p, e, "true", 4);
    case 'f': return literal(p, e, "false", 5);
    case 'n': return literal(p, e, "null", 4);
    default: return scan_number(p, e, &flag);
    }
}

/* An integer member's value, when it is an integer that fits in int64. */
static bool int_value(const char *p, const char *end, int64_t *out)
{
    bool neg = (*p == '-');
    uint64_t v = 0;
    for (p += neg; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool key_is(const char *k, size_t klen, const char *name, size_t nlen)
{
    return nlen == klen && memcmp(k, name, klen) == 0;
}

bool contend_canon_scan_line(const char *line, size_t n, const char *hash_field,
                             const char *prev_field, struct contend_canon_scan *out)
{
    const char *p = line, *e = line + n;
    const char *prev_key = NULL, *hash_mbeg = NULL, *hash_mend = NULL;
    size_t prev_len = 0, members = 0, hash_index = 0;
    const size_t hlen = strlen(hash_field), plen = strlen(prev_field);

    memset(out, 0, sizeof *out);
    if (n < 2 || *p != '{')
        return false;
    p++;
    if (*p == '}')
        return p + 1 == e;
    for (;;) {
        if (p >= e || *p != '"')
            return false;
        const char *mbeg = p, *k = p + 1;
        bool esc = false;
        p = scan_string(p, e, &esc);
        if (!p || esc)
            return false;
        size_t klen = (size_t)(p - 1 - k);
        if (prev_key && !key_before(prev_key, prev_len, k, klen))
            return false;
        prev_key = k;
        prev_len = klen;
        if (p >= e || *p != ':')
            return false;
        const char *v = ++p;
        bool vesc = false, is_int = false;
        if (p < e && *p == '"')
            p = scan_string(p, e, &vesc);
        else if (p < e && (*p == '-' || (*p >= '0' && *p <= '9')))
            p = scan_number(p, e, &is_int);
        else
            p = scan_value(p, e, 1);
        if (!p || p >= e)
            return false;
        bool is_hash = key_is(k, klen, hash_field, hlen);
        if (is_hash || key_is(k, klen, prev_field, plen)) {
            /* Hash values with escapes are left to the slow path. */
            if (*v != '"' || vesc)
                return false;
            if (is_hash) {
                out->hash = v + 1;
                out->hash_len = (size_t)(p - v - 2);
                hash_mbeg = mbeg;
                hash_mend = p;
                hash_index = members;
            } else {
                out->prev = v + 1;
                out->prev_len = (size_t)(p - v - 2);
            }
        } else if (is_int && key_is(k, klen, "op", 2)) {
            out->has_op = int_value(v, p, &out->op);
        } else if (is_int && key_is(k, klen, "writer", 6)) {
            out->has_writer = int_value(v, p, &out->writer);
        } else if (is_int && key_is(k, klen, "seq", 3)) {
            out->has_seq = int_value(v, p, &out->seq);
        }
        members++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '}' || p + 1 != e)
            return false;
        break;
    }
    if (hash_mbeg) {
        /* Cut the member and one comma next to it, so the rest is the
         * canonical object without it. */
        if (members == 1) {
            out->cut = hash_mbeg;
            out->cut_end = hash_mend;
        } else if (hash_index == 0) {
            out->cut = hash_mbeg;
            out->cut_end = hash_mend + 1;
        } else {
            out->cut = hash_mbeg - 1;
            out->cut_end = hash_mend;
        }
    }
    return true;
}

/* ---- the canonical form of any line, without a tree ------------------------ */

/*
 * A line that is not canonical already (keys in insertion order, as Python's
 * json.dumps(rec) writes them, or with spaces) used to be parsed into a
 * jansson tree and serialized again: an allocation per value, a hash table
 * per object.  Here the line is read in place instead.  An object is scanned
 * once to find its members (the spans of each key and value), the members
 * are sorted by key, and the canonical bytes are written member by member
 * into a small buffer that is handed to the sink (SHA-256) whenever it
 * fills: nothing is built but the member lists, which live in one array
 * reused from line to line.  Nested objects are handled by the same code
 * on their span.
 *
 * What it must match is json.loads followed by json.dumps(sort_keys=True,
 * separators=(",", ":")): strings decoded and escaped again (ensure_ascii,
 * lowercase hex, short forms), a repeated key keeps its last value, floats
 * through repr (contend_canon_double), integers of any size as their digits
 * ("-0" is 0), and the literals NaN, Infinity and -Infinity that Python
 * reads and writes.
 */

#define STREAM_DEPTH 512

/* One member of an object being written.  What the scan learnt about it
 * decides how it is written: a key or value already in canonical form (no
 * whitespace inside, Python's own escapes, an integer or a float as repr()
 * writes it, a literal) is copied as it stands, in one piece; only the rest
 * (strings with other escapes or raw UTF-8, floats Python writes
 * differently, nested objects and arrays) is walked again to be rewritten. */
struct smember {
    size_t key, key_len;   /* the raw key (inside the quotes), offsets in the line */
    size_t dkey, dkey_len; /* the decoded key, offsets in st->keys (when escaped) */
    size_t val, val_end;   /* the value's span */
    uint64_t head;         /* the decoded key's first 8 bytes, big-endian, zero-padded */
    bool escaped;          /* the key has escapes: compare the decoded copy */
    bool key_same;         /* the key, quotes included, is already canonical */
    bool val_same;         /* the value is already canonical */
    bool val_raw;          /* the value is a string without escapes */
};

static void sink_flush(struct contend_canon_stream *st)
{
    st->put(st->arg, st->out, st->nout);
    st->nout = 0;
}

static void sink_put_slow(struct contend_canon_stream *st, const char *s, size_t n)
{
    while (n) {
        size_t room = sizeof st->out - st->nout, k = n < room ? n : room;
        memcpy(st->out + st->nout, s, k);
        st->nout += k;
        s += k;
        n -= k;
        if (st->nout == sizeof st->out)
            sink_flush(st);
    }
}

/* Most pieces are a few bytes and fit: one memcpy, no loop. */
static inline void sink_put(struct contend_canon_stream *st, const void *p, size_t n)
{
    if (n < sizeof st->out - st->nout) {
        memcpy(st->out + st->nout, p, n);
        st->nout += n;
        return;
    }
    sink_put_slow(st, p, n);
}

static inline void sink_c(struct contend_canon_stream *st, char c)
{
    if (st->nout == sizeof st->out)
        sink_flush(st);
    st->out[st->nout++] = c;
}

static int fail_at(struct contend_canon_stream *st, const char *p, const char *what)
{
    st->err_col = (size_t)(p - st->line) + 1;
    st->err = what;
    return -EINVAL;
}

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A hex digit in either case, as json.loads reads them (canonical text has
 * only lowercase ones: hexval). */
static int hexval_any(char c)
{
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return hexval(c);
}

/* One \uXXXX at p (after the backslash-u): the 16-bit unit, or -1. */
static long hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexval_any(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/*
 * Walk the string whose opening quote is at p; with `emit`, write it as
 * Python writes it; with `dec`, append its decoded UTF-8 (surrogates that do
 * not pair kept as their three-byte form, which sorts by code point too).
 * Returns the byte after the closing quote, or NULL after fail_at().
 */
static const char *do_string(struct contend_canon_stream *st, const char *p, const char *e,
                             bool emit, struct contend_sbuf *dec)
{
    const char *start = p++;
    if (emit)
        sink_c(st, '"');
    while (p < e) {
        const char *run = p;
        p = skip_plain(p, e);
        if (p > run) {
            if (emit)
                sink_put(st, run, (size_t)(p - run));
            if (dec)
                contend_sbuf_add(dec, run, (size_t)(p - run));
        }
        if (p >= e)
            break;
        unsigned char c = (unsigned char)*p;
        unsigned cp;
        if (c == '"') {
            if (emit)
                sink_c(st, '"');
            return p + 1;
        } else if (c == '\\') {
            if (p + 1 >= e)
                break;
            char k = p[1];
            p += 2;
            switch (k) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                long u = hex4(p, e);
                if (u < 0)
                    return fail_at(st, p - 2, "invalid \\u escape"), NULL;
                p += 4;
                cp = (unsigned)u;
                /* A high surrogate followed by a low one is one code point. */
                if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    long lo = hex4(p + 2, e);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (unsigned)(lo - 0xdc00);
                        p += 6;
                    }
                }
                break;
            }
            default: return fail_at(st, p - 2, "invalid escape in a string"), NULL;
            }
        } else if (c < 0x20) {
            return fail_at(st, p, "control character in a string"), NULL;
        } else {
            size_t k = utf8_decode((const unsigned char *)p, (size_t)(e - p), &cp);
            if (k == 0)
                return fail_at(st, p, "invalid UTF-8 in a string"), NULL;
            p += k;
        }
        if (emit) {
            char b[12];
            size_t n = 0;
            if ((unsigned)cp < sizeof short_escape && short_escape[cp]) {
                b[n++] = '\\';
                b[n++] = short_escape[cp];
            } else if (cp >= 0x20 && cp < 0x7f) {
                b[n++] = (char)cp;
            } else {
                unsigned units[2] = {cp, 0};
                int nu = 1;
                if (cp > 0xffff) {
                    units[0] = 0xd800 + ((cp - 0x10000) >> 10);
                    units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
                    nu = 2;
                }
                for (int i = 0; i < nu; i++) {
                    b[n++] = '\\';
                    b[n++] = 'u';
                    b[n++] = hexdig[(units[i] >> 12) & 15];
                    b[n++] = hexdig[(units[i] >> 8) & 15];
                    b[n++] = hexdig[(units[i] >> 4) & 15];
                    b[n++] = hexdig[units[i] & 15];
                }
            }
            sink_put(st, b, n);
        }
        if (dec) {
            unsigned char u[4];
            size_t n;
            if (cp < 0x80) {
                u[0] = (unsigned char)cp;
                n = 1;
            } else if (cp < 0x800) {
                u[0] = (unsigned char)(0xc0 | (cp >> 6));
                u[1] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 2;
            } else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xe0 | (cp >> 12));
                u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 3;
            } else {
                u[0] = (unsigned char)(0xf0 | (cp >> 18));
                u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 4;
            }
            contend_sbuf_add(dec, u, n);
        }
    }
    return fail_at(st, start, "unterminated string"), NULL;
}

/* A number at p: its end, or NULL.  With `same`, whether its text is
 * already what Python writes for it (then it need not be rewritten). */
static const char *do_number(struct contend_canon_stream *st, const char *p, const char *e,
                             bool emit, bool *same)
{
    const char *s = p, *q = p;
    if (q < e && *q == '-')
        q++;
    if (e - q >= 8 && memcmp(q, "Infinity", 8) == 0 && q > s) {
        if (emit)
            sink_put(st, "-Infinity", 9);
        if (same)
            *same = true;
        return q + 8;
    }
    if (q >= e || !(*q >= '0' && *q <= '9'))
        return fail_at(st, p, "invalid number"), NULL;
    if (*q == '0')
        q++;
    else
        q = digits(q, e);
    const char *int_end = q, *frac = NULL, *frac_end = NULL;
    bool is_int = true, has_exp = false;
    if (q < e && *q == '.') {
        const char *d = digits(q + 1, e);
        if (d == q + 1)
            return fail_at(st, p, "invalid number"), NULL;
        frac = q + 1;
        frac_end = d;
        q = d;
        is_int = false;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        const char *d = q + 1;
        if (d < e && (*d == '+' || *d == '-'))
            d++;
        const char *d2 = digits(d, e);
        if (d2 == d)
            return fail_at(st, p, "invalid number"), NULL;
        q = d2;
        is_int = false;
        has_exp = true;
    }
    if (same)
        *same = is_int ? !(q - s == 2 && s[0] == '-' && s[1] == '0')
                       : float_canonical(s, (size_t)(q - s), int_end, frac, frac_end, has_exp);
    if (!emit)
        return q;
    if (is_int) {
        /* Python's int: any size, and -0 is 0. */
        if (q - s == 2 && s[0] == '-' && s[1] == '0')
            sink_c(st, '0');
        else
            sink_put(st, s, (size_t)(q - s));
        return q;
    }
    /* Most floats arrive as repr() wrote them (the writer was Python):
     * then they pass through unchanged, without strtod and printf. */
    if (float_canonical(s, (size_t)(q - s), int_end, frac, frac_end, has_exp)) {
        sink_put(st, s, (size_t)(q - s));
        return q;
    }
    char tmp[512], buf[CONTEND_CANON_DOUBLE_MAX];
    double v;
    if ((size_t)(q - s) < sizeof tmp) {
        memcpy(tmp, s, (size_t)(q - s));
        tmp[q - s] = '\0';
        v = strtod(tmp, NULL);
    } else {
        char *big = strndup(s, (size_t)(q - s));
        if (!big)
            return fail_at(st, p, "out of memory"), NULL;
        v = strtod(big, NULL);
        free(big);
    }
    int n = contend_canon_double(v, buf);
    sink_put(st, buf, (size_t)n);
    return q;
}

static const char *do_value(struct contend_canon_stream *st, const char *p, const char *e,
                            int depth, bool emit, bool top);

/* The first 8 bytes of k[0..n), big-endian, zero-padded.  Keys compare as
 * these integers first; only keys that share their first 8 bytes look at
 * the rest (record keys are short: most compare in one step). */
static inline uint64_t key_head(const char *k, size_t n)
{
    uint64_t h = 0;
    if (n >= 8) {
        const unsigned char *u = (const unsigned char *)k;
        for (int i = 0; i < 8; i++) /* compilers make this one load and a bswap */
            h = h << 8 | u[i];
        return h;
    }
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        h = h << 8 | (unsigned char)k[i];
    return h << (8 * (8 - n));
}

/* The decoded key of m, for comparing: the raw bytes when it had no escapes. */
static const char *key_bytes(const struct contend_canon_stream *st, const struct smember *m,
                             size_t *n)
{
    *n = m->escaped ? m->dkey_len : m->key_len;
    return m->escaped ? st->keys.p + m->dkey : st->line + m->key;
}

/* Code point order, which for UTF-8 is byte order; a key that is a prefix
 * of another comes first.  When the heads are equal, the first
 * min(nx, ny, 8) bytes are, and only bytes 8.. can still differ. */
static int cmp_keys(const struct contend_canon_stream *st, const struct smember *x,
                    const struct smember *y)
{
    if (x->head != y->head)
        return x->head < y->head ? -1 : 1;
    size_t nx, ny;
    const char *kx = key_bytes(st, x, &nx), *ky = key_bytes(st, y, &ny);
    size_t n = nx < ny ? nx : ny;
    if (n > 8) {
        int c = memcmp(kx + 8, ky + 8, n - 8);
        if (c)
            return c;
    }
    return (nx > ny) - (nx < ny);
}

/* The sort moves these, not the members: a head and the member's index,
 * which is also its position in the object (of equal keys the last wins). */
struct sref {
    uint64_t head;
    size_t i;
};

static int cmp_refs(const struct contend_canon_stream *st, const struct sref *x,
                    const struct sref *y)
{
    if (x->head != y->head)
        return x->head < y->head ? -1 : 1;
    const struct smember *m = st->m;
    int c = cmp_keys(st, &m[x->i], &m[y->i]);
    if (c == 0)
        c = (x->i > y->i) - (x->i < y->i);
    return c;
}

static int cmp_refs_r(const void *a, const void *b, void *arg)
{
    return cmp_refs(arg, a, b);
}

/* Keys in order already (a writer that sorts, or most of a nested object)
 * cost one comparison each: insertion sort does no more on sorted input,
 * and big objects are checked before qsort_r is called.  A record has a
 * dozen members or so: insertion sort, in place, beats qsort_r's merge sort
 * with its scratch buffer. */
static void sort_refs(struct contend_canon_stream *st, struct sref *r, size_t n)
{
    if (n > 24) {
        size_t i = 1;
        while (i < n && cmp_refs(st, &r[i - 1], &r[i]) < 0)
            i++;
        if (i < n)
            qsort_r(r, n, sizeof *r, cmp_refs_r, st);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        if (cmp_refs(st, &r[i - 1], &r[i]) < 0)
            continue;
        struct sref x = r[i];
        size_t j = i;
        while (j > 0 && cmp_refs(st, &r[j - 1], &x) > 0) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

/* The names the stream looks for among the top-level keys. */
enum { SNAME_SKIP, SNAME_HASH, SNAME_PREV, SNAME_OP /* op, writer, seq */ };

static struct contend_canon_name sname(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return (struct contend_canon_name){.s = s, .n = n, .head = s ? key_head(s, n) : 0};
}

static bool key_named_rest(const struct contend_canon_stream *st, const struct smember *m,
                           const struct contend_canon_name *name)
{
    size_t kn;
    const char *k = key_bytes(st, m, &kn);
    return name->s && kn == name->n && (kn <= 8 || memcmp(k + 8, name->s + 8, kn - 8) == 0);
}

static inline bool key_named(const struct contend_canon_stream *st, const struct smember *m,
                             const struct contend_canon_name *name)
{
    return m->head == name->head && key_named_rest(st, m, name);
}

/* A string member's decoded contents into d. */
static bool string_value(struct contend_canon_stream *st, const struct smember *m,
                         struct contend_sbuf *d)
{
    const char *v = st->line + m->val, *ve = st->line + m->val_end;
    d->n = 0;
    if (*v != '"')
        return false;
    if (m->val_raw) {
        contend_sbuf_add(d, v + 1, (size_t)(ve - v) - 2);
        return true;
    }
    return do_string(st, v, ve, false, d) != NULL;
}

/* The top-level members the ledger checker needs, noted while the line is
 * written: the hash and prev strings (decoded), op, writer and seq. */
static void note_top(struct contend_canon_stream *st, const struct smember *m)
{
    const char *v = st->line + m->val, *ve = st->line + m->val_end;
    struct contend_canon_top *t = &st->top;
    if (key_named(st, m, &st->names[SNAME_HASH])) {
        t->has_hash = string_value(st, m, &t->hash);
        return;
    }
    if (key_named(st, m, &st->names[SNAME_PREV])) {
        t->has_prev = string_value(st, m, &t->prev);
        return;
    }
    int64_t *dst[3] = {&t->op, &t->writer, &t->seq};
    bool *has[3] = {&t->has_op, &t->has_writer, &t->has_seq};
    for (int i = 0; i < 3; i++)
        if (key_named(st, m, &st->names[SNAME_OP + i]))
            *has[i] = int_value(v, ve, dst[i]);
}

/* Scan the key at p (its opening quote) into m; the byte after its closing
 * quote, or NULL.  A key in canonical form without escapes (nearly all)
 * is compared in place; others are decoded into st->keys. */
static const char *scan_key(struct contend_canon_stream *st, const char *p, const char *e,
                            size_t at)
{
    bool esc = false;
    const char *q = scan_string(p, e, &esc);
    struct smember *m = (struct smember *)st->m + at;
    m->key = (size_t)(p + 1 - st->line);
    m->key_same = q != NULL;
    m->escaped = !q || esc;
    if (!m->escaped) {
        m->key_len = (size_t)(q - 1 - p - 1);
        m->head = key_head(p + 1, m->key_len);
        return q;
    }
    size_t d = st->keys.n;
    q = do_string(st, p, e, false, &st->keys);
    if (!q)
        return NULL;
    m = (struct smember *)st->m + at;
    m->dkey = d;
    m->dkey_len = st->keys.n - d;
    m->key_len = (size_t)(q - 1 - st->line) - m->key;
    m->head = key_head(st->keys.p + d, m->dkey_len);
    return q;
}

/* Scan the value at p into m (at index `at`): its end, or NULL.  Whether it
 * is canonical as it stands is noted, so that writing it is one copy. */
static const char *scan_member_value(struct contend_canon_stream *st, const char *p, const char *e,
                                     int depth, size_t at)
{
    const char *v;
    bool same = false, raw = false;
    if (depth > STREAM_DEPTH || p >= e) {
        v = do_value(st, p, e, depth, false, false); /* says why */
    } else if (*p == '"') {
        bool esc = false;
        v = scan_string(p, e, &esc);
        if (v) {
            same = true;
            raw = !esc;
        } else {
            v = do_string(st, p, e, false, NULL);
        }
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        v = do_number(st, p, e, false, &same);
    } else {
        v = do_value(st, p, e, depth, false, false);
        same = *p != '{' && *p != '['; /* the literals are written as read */
    }
    if (!v)
        return NULL;
    struct smember *m = (struct smember *)st->m + at;
    m->val_end = (size_t)(v - st->line);
    m->val_same = same;
    m->val_raw = raw;
    return v;
}

static const char *do_object(struct contend_canon_stream *st, const char *p, const char *e,
                             int depth, bool emit, bool top)
{
    size_t base = st->nm, count = 0;
    p = ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto write;
    }
    for (;;) {
        if (p >= e || *p != '"')
            return fail_at(st, p, "expected a string key"), NULL;
        if (st->nm == st->cap_m) {
            st->cap_m = st->cap_m ? st->cap_m * 2 : 64;
            st->m = contend_realloc(st->m, st->cap_m * sizeof(struct smember));
            st->refs = contend_realloc(st->refs, st->cap_m * sizeof(struct sref));
        }
        size_t at = st->nm;
        p = scan_key(st, p, e, at);
        if (!p)
            return NULL;
        p = ws(p, e);
        if (p >= e || *p != ':')
            return fail_at(st, p, "expected ':'"), NULL;
        p = ws(p + 1, e);
        struct smember *m = (struct smember *)st->m + at;
        m->val = (size_t)(p - st->line);
        st->nm++;
        const char *v = scan_member_value(st, p, e, depth + 1, at);
        if (!v)
            return NULL;
        count++;
        p = ws(v, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            break;
        }
        return fail_at(st, p, "expected ',' or '}'"), NULL;
    }
write:
    if (emit && count == 0) {
        sink_put(st, "{}", 2);
    } else if (emit) {
        /* The order is sorted in st->refs[base..base + count), beside the
         * members; nested objects use the room after it (and may move both
         * arrays: indexes, not pointers). */
        struct sref *r = (struct sref *)st->refs + base;
        for (size_t i = 0; i < count; i++)
            r[i] = (struct sref){.head = ((struct smember *)st->m)[base + i].head, .i = base + i};
        sort_refs(st, r, count);
        bool first = true;
        sink_c(st, '{');
        for (size_t k = 0; k < count; k++) {
            r = (struct sref *)st->refs + base;
            const struct smember *m = (const struct smember *)st->m + r[k].i;
            /* Of equal keys, only the last in the line counts (json.loads). */
            if (k + 1 < count && r[k].head == r[k + 1].head &&
                cmp_keys(st, m, (const struct smember *)st->m + r[k + 1].i) == 0)
                continue;
            if (top) {
                note_top(st, m);
                if (key_named(st, m, &st->names[SNAME_SKIP]))
                    continue;
            }
            if (!first)
                sink_c(st, ',');
            first = false;
            if (m->key_same)
                sink_put(st, st->line + m->key - 1, m->key_len + 2);
            else
                do_string(st, st->line + m->key - 1, e, true, NULL);
            sink_c(st, ':');
            if (m->val_same)
                sink_put(st, st->line + m->val, m->val_end - m->val);
            else if (!do_value(st, st->line + m->val, st->line + m->val_end, depth + 1, true,
                               false))
                return NULL;
        }
        sink_c(st, '}');
    }
    st->nm = base;
    return p;
}

static const char *do_array(struct contend_canon_stream *st, const char *p, const char *e,
                            int depth, bool emit)
{
    if (emit)
        sink_c(st, '[');
    p = ws(p + 1, e);
    if (p < e && *p == ']') {
        if (emit)
            sink_c(st, ']');
        return p + 1;
    }
    for (bool first = true;; first = false) {
        if (emit && !first)
            sink_c(st, ',');
        p = do_value(st, p, e, depth + 1, emit, false);
        if (!p)
            return NULL;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == ']') {
            if (emit)
                sink_c(st, ']');
            return p + 1;
        }
        return fail_at(st, p, "expected ',' or ']'"), NULL;
    }
}

static const char *word(struct contend_canon_stream *st, const char *p, const char *e,
                        const char *w, bool emit)
{
    size_t n = strlen(w);
    if ((size_t)(e - p) < n || memcmp(p, w, n) != 0)
        return fail_at(st, p, "invalid literal"), NULL;
    if (emit)
        sink_put(st, w, n);
    return p + n;
}

static const char *do_value(struct contend_canon_stream *st, const char *p, const char *e,
                            int depth, bool emit, bool top)
{
    if (depth > STREAM_DEPTH)
        return fail_at(st, p, "nested too deeply"), NULL;
    if (p >= e)
        return fail_at(st, p, "expected a value"), NULL;
    switch (*p) {
    case '{': return do_object(st, p, e, depth, emit, top);
    case '[': return do_array(st, p, e, depth, emit);
    case '"': return do_string(st, p, e, emit, NULL);
    case 't': return word(st, p, e, "true", emit);
    case 'f': return word(st, p, e, "false", emit);
    case 'n': return word(st, p, e, "null", emit);
    case 'N': return word(st, p, e, "NaN", emit);
    case 'I': return word(st, p, e, "Infinity", emit);
    default: return do_number(st, p, e, emit, NULL);
    }
}

void contend_canon_stream_free(struct contend_canon_stream *st)
{
    free(st->m);
    free(st->refs);
    st->refs = NULL;
    contend_sbuf_free(&st->keys);
    contend_sbuf_free(&st->top.hash);
    contend_sbuf_free(&st->top.prev);
    st->m = NULL;
    st->cap_m = st->nm = 0;
}

int contend_canon_stream_line(struct contend_canon_stream *st, const char *line, size_t n)
{
    const char *e = line + n, *p;
    st->line = line;
    /* The names are measured once, not per line (see canon.h). */
    if (st->names[SNAME_SKIP].s != st->skip_key)
        st->names[SNAME_SKIP] = sname(st->skip_key);
    if (st->names[SNAME_HASH].s != st->hash_field)
        st->names[SNAME_HASH] = sname(st->hash_field);
    if (st->names[SNAME_PREV].s != st->prev_field)
        st->names[SNAME_PREV] = sname(st->prev_field);
    if (!st->names[SNAME_OP].s) {
        st->names[SNAME_OP] = sname("op");
        st->names[SNAME_OP + 1] = sname("writer");
        st->names[SNAME_OP + 2] = sname("seq");
    }
    st->nout = 0;
    st->nm = 0;
    st->keys.n = 0;
    st->err = NULL;
    st->err_col = 0;
    st->top.has_hash = st->top.has_prev = false;
    st->top.has_op = st->top.has_writer = st->top.has_seq = false;
    p = ws(line, e);
    if (p < e && *p != '{') {
        /* Some other JSON value, or not JSON at all: say which. */
        const char *end = do_value(st, p, e, 0, false, false);
        if (end && ws(end, e) == e)
            return fail_at(st, p, "not a JSON object");
        return end ? fail_at(st, ws(end, e), "extra data after the value") : -EINVAL;
    }
    if (p >= e)
        return fail_at(st, p, "expected a value");
    /* One pass: the top object's members are all scanned (and so the whole
     * line checked) before its first canonical byte is written. */
    const char *end = do_value(st, p, e, 0, true, true);
    if (!end)
        return -EINVAL;
    if (ws(end, e) != e)
        return fail_at(st, ws(end, e), "extra data after the object");
    if (st->nout)
        st->put(st->arg, st->out, st->nout);
    st->nout = 0;
    return 0;
}
