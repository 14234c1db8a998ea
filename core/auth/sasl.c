#include "auth/sasl.h"

#include <openssl/crypto.h>
#include <string.h>

#include "util/base64.h"
#include "util/err.h"
#include "util/str.h"

#define AUTH_SASL_DECODED_MAX (3 * AUTH_SASL_FIELD_MAX + 2)

static const char auth_sasl_challenge_plain[] = "";
static const char auth_sasl_challenge_user[] = "VXNlcm5hbWU6"; /* "Username:" */
static const char auth_sasl_challenge_pass[] = "UGFzc3dvcmQ6"; /* "Password:" */

void auth_sasl_init(struct auth_sasl *s)
{
    memset(s, 0, sizeof(*s));
    s->mech = AUTH_SASL_MECH_NONE;
    s->state = AUTH_SASL_IDLE;
}

void auth_sasl_reset(struct auth_sasl *s)
{
    OPENSSL_cleanse(s, sizeof(*s));
    auth_sasl_init(s);
}

int auth_sasl_mech_supported(const char *mech)
{
    return str_casecmp(mech, "PLAIN") == 0 || str_casecmp(mech, "LOGIN") == 0;
}

/* Marks s failed and returns err: an exchange ends at its first error. */
static int auth_sasl_fail(struct auth_sasl *s, int err)
{
    OPENSSL_cleanse(s->password, sizeof(s->password));
    s->password_len = 0;
    s->state = AUTH_SASL_STATE_FAILED;
    return err;
}

/* Copies a field that must hold no NUL; empty allowed only when allow_empty. */
static int auth_sasl_set_field(char *dst, size_t *dst_len, const uint8_t *src, size_t len,
                               int allow_empty)
{
    if (len > AUTH_SASL_FIELD_MAX)
        return PETREL_ETOOBIG;
    if ((len == 0 && !allow_empty) || memchr(src, '\0', len) != NULL)
        return PETREL_EINVAL;
    memcpy(dst, src, len);
    dst[len] = '\0';
    *dst_len = len;
    return 0;
}

/* Decodes a client response; "=" is the empty initial response when is_initial. */
static int auth_sasl_decode(const char *in, size_t len, int is_initial, uint8_t *out,
                            size_t *out_len_r)
{
    if (len > AUTH_SASL_LINE_MAX)
        return PETREL_ETOOBIG;
    if (is_initial && len == 1 && in[0] == '=') {
        *out_len_r = 0;
        return 0;
    }
    return base64_decode(in, len, BASE64_PAD_OPTIONAL, out, AUTH_SASL_DECODED_MAX, out_len_r);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd */
static int auth_sasl_plain_parse(struct auth_sasl *s, const uint8_t *m, size_t len)
{
    const uint8_t *nul1 = memchr(m, '\0', len);
    if (!nul1)
        return PETREL_EINVAL;
    const uint8_t *a = nul1 + 1;
    const uint8_t *nul2 = memchr(a, '\0', len - (size_t)(a - m));
    if (!nul2)
        return PETREL_EINVAL;
    const uint8_t *pw = nul2 + 1;
    int rc = auth_sasl_set_field(s->authzid, &s->authzid_len, m, (size_t)(nul1 - m), 1);
    if (rc == 0)
        rc = auth_sasl_set_field(s->authcid, &s->authcid_len, a, (size_t)(nul2 - a), 0);
    if (rc == 0) /* a third NUL lands here and is refused */
        rc = auth_sasl_set_field(s->password, &s->password_len, pw, len - (size_t)(pw - m), 0);
    return rc;
}

/* Consumes one decoded response in the current state. */
static int auth_sasl_proceed(struct auth_sasl *s, const uint8_t *m, size_t len,
                             const char **challenge_r)
{
    int rc;
    switch (s->state) {
    case AUTH_SASL_WANT_PLAIN:
        rc = auth_sasl_plain_parse(s, m, len);
        break;
    case AUTH_SASL_WANT_USER:
        rc = auth_sasl_set_field(s->authcid, &s->authcid_len, m, len, 0);
        if (rc == 0) {
            s->state = AUTH_SASL_WANT_PASS;
            *challenge_r = auth_sasl_challenge_pass;
            return AUTH_SASL_NEED_MORE;
        }
        break;
    case AUTH_SASL_WANT_PASS:
        rc = auth_sasl_set_field(s->password, &s->password_len, m, len, 0);
        break;
    default:
        rc = PETREL_EINVAL;
        break;
    }
    if (rc < 0)
        return auth_sasl_fail(s, rc);
    s->state = AUTH_SASL_STATE_DONE;
    return AUTH_SASL_DONE;
}

int auth_sasl_start(struct auth_sasl *s, const char *mech, const char *initial, size_t initial_len,
                    const char **challenge_r)
{
    *challenge_r = NULL;
    if (s->state != AUTH_SASL_IDLE)
        return auth_sasl_fail(s, PETREL_EINVAL);
    if (str_casecmp(mech, "PLAIN") == 0) {
        s->mech = AUTH_SASL_MECH_PLAIN;
        s->state = AUTH_SASL_WANT_PLAIN;
        *challenge_r = auth_sasl_challenge_plain;
    } else if (str_casecmp(mech, "LOGIN") == 0) {
        s->mech = AUTH_SASL_MECH_LOGIN;
        s->state = AUTH_SASL_WANT_USER;
        *challenge_r = auth_sasl_challenge_user;
    } else {
        return auth_sasl_fail(s, PETREL_ENOTSUP);
    }
    if (!initial)
        return AUTH_SASL_NEED_MORE;
    uint8_t m[AUTH_SASL_DECODED_MAX];
    size_t mlen = 0;
    int rc = auth_sasl_decode(initial, initial_len, 1, m, &mlen);
    if (rc == 0)
        rc = auth_sasl_proceed(s, m, mlen, challenge_r);
    else
        rc = auth_sasl_fail(s, rc);
    OPENSSL_cleanse(m, sizeof(m));
    if (rc != AUTH_SASL_NEED_MORE)
        *challenge_r = NULL;
    return rc;
}

int auth_sasl_step(struct auth_sasl *s, const char *line, size_t len, const char **challenge_r)
{
    *challenge_r = NULL;
    if (s->state != AUTH_SASL_WANT_PLAIN && s->state != AUTH_SASL_WANT_USER &&
        s->state != AUTH_SASL_WANT_PASS)
        return auth_sasl_fail(s, PETREL_EINVAL);
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 1 && line[0] == '*')
        return auth_sasl_fail(s, PETREL_ECLOSED);
    uint8_t m[AUTH_SASL_DECODED_MAX];
    size_t mlen = 0;
    int rc = auth_sasl_decode(line, len, 0, m, &mlen);
    if (rc == 0)
        rc = auth_sasl_proceed(s, m, mlen, challenge_r);
    else
        rc = auth_sasl_fail(s, rc);
    OPENSSL_cleanse(m, sizeof(m));
    return rc;
}
