/*
 * conformance_people.c - store conformance: people, memberships,
 * invitations, a person's own settings (password, TOTP, sign-in), failed
 * sign-ins, and a person's sessions (member_* / invitation_* / person_* /
 * signin_failure* of store.h).
 *
 * Emails are given lower case, as the service does. Invitation ids are
 * digests inv(n); a person's session hashes are psess(n); password hashes
 * are plain strings here (the store keeps whatever text it is given).
 * Invitations made at `now` expire at now + INV_LIFE (72 h).
 */
#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

#define INV_LIFE ((int64_t)72 * 3600)
#define ADA "ada@example.com"
#define BOB "bob@example.com"
#define AL "al@example.com"

static ks_digest inv(int n)
{
    return tok("invitation", n);
}

static ks_digest psess(int n)
{
    return tok("person-session", n);
}

/* member_add with roles, invitation inv(n) made at now (n < 0: none);
 * *invited gets the store's answer. */
static int add_inv(const char *account, const char *email, const char *const *roles, int64_t now, int n,
                   int *invited)
{
    ks_strlist l = slist(roles);
    ks_invitation i = {inv(n), now + INV_LIFE};
    ks_audit_entry a = aud(account, "user.invite", email);
    *invited = -1;
    return store->ops->member_add(store, account, email, &l, now, n >= 0 ? &i : NULL, invited, &a);
}

static int add(const char *account, const char *email, const char *const *roles)
{
    int invited;
    return add_inv(account, email, roles, T0, -1, &invited);
}

/* member_update (roles NULL = keep, status -1 = keep). */
static int update(const char *account, const char *email, const char *const *roles, int status)
{
    ks_strlist l = roles ? slist(roles) : (ks_strlist){0};
    ks_audit_entry a = aud(account, "user.update", email);
    return store->ops->member_update(store, account, email, roles ? &l : NULL, status, &a);
}

static int remove_member(const char *account, const char *email)
{
    ks_audit_entry a = aud(account, "user.remove", email);
    return store->ops->member_remove(store, account, email, &a);
}

static ks_person *must_person(const char *email)
{
    ks_person *p = xcalloc(sizeof *p);
    int rc = store->ops->person_get(store, email, p);
    if (rc != KS_OK)
        UNIT_FAIL("person_get(%s) = %d, want KS_OK", email, rc);
    return p;
}

static void member_free_deferred(void *p)
{
    ks_member_free(p);
    free(p);
}

/* member_get, or NULL with *rc set (freed after the test). */
static ks_member *get_member(const char *account, const char *email, int *rc)
{
    ks_member *m = calloc(1, sizeof *m);
    if (!m)
        UNIT_FAIL("out of memory");
    *rc = store->ops->member_get(store, account, email, m);
    if (*rc != KS_OK) {
        free(m);
        return NULL;
    }
    return defer(m, member_free_deferred);
}

static ks_member *must_member(const char *account, const char *email)
{
    int rc;
    ks_member *m = get_member(account, email, &rc);
    if (!m)
        UNIT_FAIL("member_get(%s, %s) = %d, want KS_OK", account, email, rc);
    return m;
}

static void expect_not_member(const char *account, const char *email)
{
    int rc;
    ASSERT(get_member(account, email, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
}

typedef struct {
    ks_member *items;
    size_t n;
} member_set;

static void member_set_free(void *p)
{
    member_set *s = p;
    ks_members_free(s->items, s->n);
    free(s);
}

static member_set *list_members(const char *account)
{
    member_set *s = calloc(1, sizeof *s);
    if (!s)
        UNIT_FAIL("out of memory");
    int rc = store->ops->member_list(store, account, &s->items, &s->n);
    defer(s, member_set_free);
    ASSERT_EQ_INT(rc, KS_OK);
    return s;
}

static int psess_create(int n, int64_t person_id, int64_t now)
{
    ks_digest h = psess(n);
    return store->ops->person_session_create(store, &h, person_id, "session", now);
}

static int psess_exists(int n)
{
    ks_digest h = psess(n);
    ks_session_record rec;
    int rc = store->ops->session_get(store, &h, &rec);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_get(psess(%d)) = %d", n, rc);
    return rc == KS_OK;
}

/* acme and beta, each with its Owner key. */
static void people_fixture(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
}

/* ============================================================== tests */

static void test_member_add_get_list(void)
{
    people_fixture();
    size_t audits = audit_count("acme");
    int invited;
    ASSERT_EQ_INT(add_inv("acme", ADA, R("Owner", "User Administrator - RESTRICTED"), T0 + 5, 1, &invited), KS_OK);
    ASSERT_EQ_INT(invited, 1); /* no password yet: the invitation is stored */
    expect_audit("acme", audits, "user.invite", ADA);

    ks_person *p = must_person(ADA);
    ASSERT(p->id > 0);
    ASSERT_EQ_STR(p->email, ADA);
    ASSERT_EQ_STR(p->password_hash, "");
    ASSERT_EQ_INT(p->totp_sealed_len, 0);
    ASSERT_EQ_INT(p->totp_enabled, 0);
    ASSERT_EQ_INT(p->totp_last_step, 0);
    ASSERT_EQ_INT(p->created_at, T0 + 5);
    ASSERT_EQ_INT(p->last_sign_in_at, 0);
    ASSERT_EQ_INT(p->sso, 0);
    ks_person by_id;
    ASSERT_EQ_INT(store->ops->person_get_by_id(store, p->id, &by_id), KS_OK);
    ASSERT_EQ_STR(by_id.email, ADA);
    ASSERT_EQ_INT(store->ops->person_get_by_id(store, p->id + 1000, &by_id), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->person_get(store, BOB, &by_id), KS_ERR_NOT_FOUND);

    ks_member *m = must_member("acme", ADA);
    ASSERT_EQ_STR(m->person.email, ADA);
    ASSERT_EQ_INT(m->person.id, p->id);
    ASSERT_EQ_STR(m->membership.account, "acme");
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_EQ_INT(m->membership.created_at, T0 + 5);
    ASSERT_SET(&m->membership.roles, R("Owner", "User Administrator - RESTRICTED"));
    expect_not_member("beta", ADA);
    expect_not_member("acme", BOB);

    /* Without an invitation asked for, none is made; no roles is fine. */
    ASSERT_EQ_INT(add_inv("acme", BOB, R0, T0 + 6, -1, &invited), KS_OK);
    ASSERT_EQ_INT(invited, 0);
    ASSERT_EQ_INT(must_member("acme", BOB)->membership.roles.count, 0);
    ASSERT_EQ_INT(add("acme", AL, R("User Administrator - RESTRICTED")), KS_OK);

    /* The list: every member, by email, with roles. */
    member_set *l = list_members("acme");
    ASSERT_EQ_INT(l->n, 3);
    ASSERT_EQ_STR(l->items[0].person.email, ADA);
    ASSERT_EQ_STR(l->items[1].person.email, AL);
    ASSERT_EQ_STR(l->items[2].person.email, BOB);
    ASSERT_SET(&l->items[0].membership.roles, R("Owner", "User Administrator - RESTRICTED"));
    ASSERT_SET(&l->items[1].membership.roles, R("User Administrator - RESTRICTED"));
    ASSERT_EQ_INT(l->items[2].membership.roles.count, 0);
    ASSERT_EQ_INT(list_members("beta")->n, 0);

    /* One person, several accounts: the same person, its own roles per account. */
    ASSERT_EQ_INT(add("beta", ADA, R("User Administrator - RESTRICTED")), KS_OK);
    ASSERT_EQ_INT(must_member("beta", ADA)->person.id, p->id);
    ASSERT_SET(&must_member("beta", ADA)->membership.roles, R("User Administrator - RESTRICTED"));
    ASSERT_SET(&must_member("acme", ADA)->membership.roles, R("Owner", "User Administrator - RESTRICTED"));
    ks_membership *ms = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->person_memberships(store, p->id, &ms, &n), KS_OK);
    int ok = n == 2 && strcmp(ms[0].account, "acme") == 0 && strcmp(ms[1].account, "beta") == 0 &&
             ms[0].active && ms[1].active && strlist_same_set(&ms[1].roles, R("User Administrator - RESTRICTED"));
    ks_memberships_free(ms, n);
    ASSERT(ok);
    ASSERT_EQ_INT(store->ops->person_memberships(store, p->id + 1000, &ms, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    ks_memberships_free(ms, n);
}

static void test_member_add_errors_change_nothing(void)
{
    people_fixture();
    ASSERT_EQ_INT(add("acme", ADA, R("Owner")), KS_OK);
    size_t audits = audit_count("acme");
    int invited;
    /* Already a member. */
    ASSERT_EQ_INT(add_inv("acme", ADA, R0, T0, 2, &invited), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(invited, 0);
    ks_invitation_record rec;
    ks_digest i2 = inv(2);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i2, T0, &rec), KS_ERR_NOT_FOUND);
    /* An unknown role: neither the person nor the membership is made. */
    ASSERT_EQ_INT(add_inv("acme", BOB, R("Owner", "no such role"), T0, 3, &invited), KS_ERR_INVALID);
    ASSERT_EQ_INT(invited, 0);
    ks_person none;
    ASSERT_EQ_INT(store->ops->person_get(store, BOB, &none), KS_ERR_NOT_FOUND);
    ks_digest i3 = inv(3);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i3, T0, &rec), KS_ERR_NOT_FOUND);
    /* An unknown account. */
    ASSERT_EQ_INT(add_inv("nope", BOB, R0, T0, 4, &invited), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->person_get(store, BOB, &none), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), audits);
    ASSERT_SET(&must_member("acme", ADA)->membership.roles, R("Owner"));
}

static void test_invitation_expiry_and_one_time_use(void)
{
    people_fixture();
    int invited;
    ASSERT_EQ_INT(add_inv("acme", ADA, R0, T0, 1, &invited), KS_OK);
    ASSERT_EQ_INT(invited, 1);
    ks_person *p = must_person(ADA);
    ks_digest i1 = inv(1), unknown = inv(99);
    ks_invitation_record rec;
    memset(&rec, 0x5A, sizeof rec);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i1, T0, &rec), KS_OK);
    ASSERT_EQ_STR(rec.email, ADA);
    ASSERT_EQ_STR(rec.account, "acme");
    ASSERT_EQ_INT(rec.person_id, p->id);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i1, T0 + INV_LIFE - 1, &rec), KS_OK);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i1, T0 + INV_LIFE, &rec), KS_ERR_GONE); /* 72 h: expired */
    ASSERT_EQ_INT(store->ops->invitation_get(store, &unknown, T0, &rec), KS_ERR_NOT_FOUND);

    /* Expired: accepting changes nothing. */
    size_t audits = audit_count("acme");
    ks_audit_entry a = aud("acme", "user.invite_accept", ADA);
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &i1, T0 + INV_LIFE, "hash-late", &a), KS_ERR_GONE);
    ASSERT_EQ_STR(must_person(ADA)->password_hash, "");
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &unknown, T0, "hash-x", &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), audits);

    /* In time: the password is set, the entry audited, the link used up. */
    a = aud("acme", "user.invite_accept", ADA);
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &i1, T0 + 10, "hash-1", &a), KS_OK);
    expect_audit("acme", audits, "user.invite_accept", ADA);
    ASSERT_EQ_STR(must_person(ADA)->password_hash, "hash-1");
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i1, T0 + 11, &rec), KS_ERR_GONE);
    a = aud("acme", "user.invite_accept", ADA);
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &i1, T0 + 11, "hash-2", &a), KS_ERR_GONE);
    ASSERT_EQ_STR(must_person(ADA)->password_hash, "hash-1");

    /* A person with a password gets no invitation from another account. */
    ASSERT_EQ_INT(add_inv("beta", ADA, R0, T0 + 20, 2, &invited), KS_OK);
    ASSERT_EQ_INT(invited, 0);
    ks_digest i2 = inv(2);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i2, T0 + 20, &rec), KS_ERR_NOT_FOUND);
}

static void test_accepting_one_invitation_uses_the_others(void)
{
    people_fixture();
    int invited;
    ASSERT_EQ_INT(add_inv("acme", BOB, R0, T0, 1, &invited), KS_OK);
    ASSERT_EQ_INT(add_inv("beta", BOB, R0, T0 + 1, 2, &invited), KS_OK);
    ASSERT_EQ_INT(invited, 1); /* still no password: beta's link too */
    ks_digest i1 = inv(1), i2 = inv(2);
    ks_invitation_record rec;
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i2, T0 + 2, &rec), KS_OK);
    ASSERT_EQ_STR(rec.account, "beta");
    ks_audit_entry a = aud("beta", "user.invite_accept", BOB);
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &i2, T0 + 3, "hash-b", &a), KS_OK);
    ASSERT_EQ_INT(store->ops->invitation_get(store, &i1, T0 + 4, &rec), KS_ERR_GONE);
    a = aud("acme", "user.invite_accept", BOB);
    ASSERT_EQ_INT(store->ops->invitation_accept(store, &i1, T0 + 4, "hash-other", &a), KS_ERR_GONE);
    ASSERT_EQ_STR(must_person(BOB)->password_hash, "hash-b");
}

static void test_member_update_roles_and_status(void)
{
    people_fixture();
    ASSERT_EQ_INT(add("acme", ADA, R("User Administrator - RESTRICTED")), KS_OK);
    ASSERT_EQ_INT(add("beta", ADA, R("User Administrator - RESTRICTED")), KS_OK);
    size_t audits = audit_count("acme");
    ASSERT_EQ_INT(update("acme", ADA, R("Owner"), -1), KS_OK);
    expect_audit("acme", audits, "user.update", ADA);
    ks_member *m = must_member("acme", ADA);
    ASSERT_SET(&m->membership.roles, R("Owner"));
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_EQ_INT(update("acme", ADA, NULL, KS_KEY_INACTIVE), KS_OK); /* roles kept */
    m = must_member("acme", ADA);
    ASSERT_EQ_INT(m->membership.active, 0);
    ASSERT_SET(&m->membership.roles, R("Owner"));
    /* Only that account's membership changed. */
    m = must_member("beta", ADA);
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_SET(&m->membership.roles, R("User Administrator - RESTRICTED"));
    ASSERT_EQ_INT(update("acme", ADA, R0, KS_KEY_ACTIVE), KS_OK);
    m = must_member("acme", ADA);
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_EQ_INT(m->membership.roles.count, 0);

    /* Errors change nothing and audit nothing. */
    audits = audit_count("acme");
    ASSERT_EQ_INT(update("acme", ADA, R("no such role"), KS_KEY_INACTIVE), KS_ERR_INVALID);
    m = must_member("acme", ADA);
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_EQ_INT(m->membership.roles.count, 0);
    ASSERT_EQ_INT(update("acme", BOB, R0, -1), KS_ERR_NOT_FOUND);     /* nobody of that email */
    ASSERT_EQ_INT(add("beta", BOB, R0), KS_OK);
    ASSERT_EQ_INT(update("acme", BOB, R0, -1), KS_ERR_NOT_FOUND);     /* a person, not a member here */
    ASSERT_EQ_INT(remove_member("acme", BOB), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), audits);

    /* Remove: that account only; the person stays. */
    ASSERT_EQ_INT(remove_member("acme", ADA), KS_OK);
    expect_audit("acme", audits, "user.remove", ADA);
    expect_not_member("acme", ADA);
    must_member("beta", ADA);
    must_person(ADA);
    /* And can be added back, with other roles. */
    ASSERT_EQ_INT(add("acme", ADA, R("Owner")), KS_OK);
    ASSERT_SET(&must_member("acme", ADA)->membership.roles, R("Owner"));
}

static void test_last_owner_counts_person_owners(void)
{
    people_fixture();
    const char *owner_key = kid("acme", 0);
    ASSERT_EQ_INT(add("acme", ADA, R("Owner")), KS_OK);
    /* With ada an active Owner, the Owner key may go inactive. */
    set_status("acme", owner_key, KS_KEY_INACTIVE);
    size_t audits = audit_count("acme");
    /* Now ada is the last active Owner: none of these may pass. */
    ASSERT_EQ_INT(update("acme", ADA, NULL, KS_KEY_INACTIVE), KS_ERR_LAST_OWNER);
    ASSERT_EQ_INT(update("acme", ADA, R("User Administrator - RESTRICTED"), -1), KS_ERR_LAST_OWNER);
    ASSERT_EQ_INT(remove_member("acme", ADA), KS_ERR_LAST_OWNER);
    ASSERT_EQ_INT(audit_count("acme"), audits);
    ks_member *m = must_member("acme", ADA);
    ASSERT_EQ_INT(m->membership.active, 1);
    ASSERT_SET(&m->membership.roles, R("Owner"));
    /* With a second person Owner, ada may go. */
    ASSERT_EQ_INT(add("acme", BOB, R("Owner")), KS_OK);
    ASSERT_EQ_INT(update("acme", ADA, NULL, KS_KEY_INACTIVE), KS_OK);
    /* An inactive Owner does not count: bob is the last one. */
    ASSERT_EQ_INT(remove_member("acme", BOB), KS_ERR_LAST_OWNER);
    ASSERT_EQ_INT(update("acme", BOB, R0, -1), KS_ERR_LAST_OWNER);
    /* With the Owner key active again, bob may go. */
    set_status("acme", owner_key, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(remove_member("acme", BOB), KS_OK);
    ASSERT_EQ_INT(remove_member("acme", ADA), KS_OK); /* inactive: never counted */
    /* Another account's Owners do not count here. */
    ASSERT_EQ_INT(add("beta", ADA, R("Owner")), KS_OK);
    ks_key_patch kp = {NULL, NULL, KS_KEY_INACTIVE, NULL, NULL};
    ks_audit_entry a = aud("acme", "key.deactivate", owner_key);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner_key, &kp, &a), KS_ERR_LAST_OWNER);
}

static void test_sessions_end_on_deactivate_remove_password(void)
{
    people_fixture();
    ASSERT_EQ_INT(add("acme", ADA, R0), KS_OK);
    ASSERT_EQ_INT(add("beta", ADA, R0), KS_OK);
    ASSERT_EQ_INT(add("acme", BOB, R0), KS_OK);
    int64_t ada = must_person(ADA)->id, bob = must_person(BOB)->id;
    ASSERT_EQ_INT(psess_create(1, ada, T0), KS_OK);
    ASSERT_EQ_INT(psess_create(2, ada, T0 + 1), KS_OK);
    ASSERT_EQ_INT(psess_create(3, bob, T0 + 2), KS_OK);
    ks_digest kh = tok("key-session", 1), kt = tok(kid("acme", 0), 0);
    ASSERT_EQ_INT(store->ops->session_create(store, &kh, kid("acme", 0), &kt, T0), KS_OK);

    /* A person's session reads back as the person's. */
    ks_digest h1 = psess(1);
    ks_session_record rec;
    memset(&rec, 0x5A, sizeof rec);
    ASSERT_EQ_INT(store->ops->session_get(store, &h1, &rec), KS_OK);
    ASSERT_EQ_INT(rec.person_id, ada);
    ASSERT_EQ_STR(rec.key_id, "");
    ASSERT_EQ_STR(rec.via, "session");
    ASSERT_EQ_INT(rec.created_at, T0);
    ASSERT_EQ_INT(rec.last_seen_at, T0);
    ASSERT_EQ_INT(psess_create(9, ada + bob + 1000, T0), KS_ERR_NOT_FOUND); /* nobody */

    /* Changing roles ends nothing. */
    ASSERT_EQ_INT(update("acme", ADA, R("User Administrator - RESTRICTED"), -1), KS_OK);
    ASSERT(psess_exists(1) && psess_exists(2));
    /* Deactivating in one account ends all the person's sessions, no one else's. */
    ASSERT_EQ_INT(update("acme", ADA, NULL, KS_KEY_INACTIVE), KS_OK);
    ASSERT(!psess_exists(1) && !psess_exists(2));
    ASSERT(psess_exists(3));
    ASSERT_EQ_INT(store->ops->session_get(store, &kh, &rec), KS_OK);
    ASSERT_EQ_INT(update("acme", ADA, NULL, KS_KEY_ACTIVE), KS_OK);

    /* Removing from one account ends them too. */
    ASSERT_EQ_INT(psess_create(4, ada, T0 + 10), KS_OK);
    ASSERT_EQ_INT(remove_member("beta", ADA), KS_OK);
    ASSERT(!psess_exists(4));
    ASSERT(psess_exists(3));

    /* A password change ends every session but the one kept. */
    ASSERT_EQ_INT(psess_create(5, ada, T0 + 20), KS_OK);
    ASSERT_EQ_INT(psess_create(6, ada, T0 + 21), KS_OK);
    ks_digest keep = psess(5);
    ASSERT_EQ_INT(store->ops->person_password_set(store, ada, "hash-new", &keep), KS_OK);
    ASSERT_EQ_STR(must_person(ADA)->password_hash, "hash-new");
    ASSERT(psess_exists(5) && !psess_exists(6));
    ASSERT(psess_exists(3));
    ASSERT_EQ_INT(store->ops->person_password_set(store, ada, "hash-newer", NULL), KS_OK);
    ASSERT(!psess_exists(5));
    ASSERT(psess_exists(3));
    ASSERT_EQ_INT(store->ops->person_password_set(store, ada + bob + 1000, "hash", NULL), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->session_get(store, &kh, &rec), KS_OK);
}

static void test_totp_secret_and_steps(void)
{
    people_fixture();
    ASSERT_EQ_INT(add("acme", ADA, R0), KS_OK);
    int64_t id = must_person(ADA)->id, nobody = id + 1000;
    unsigned char sealed[KS_SEALED_MAX_PERSON], other[KS_SEALED_MAX_PERSON];
    for (size_t i = 0; i < sizeof sealed; i++) {
        sealed[i] = (unsigned char)(i * 7 + 1);
        other[i] = (unsigned char)(255 - i);
    }
    const size_t len = 56;

    /* Pending enrolment: stored, not enabled. */
    ASSERT_EQ_INT(store->ops->person_totp_set(store, id, sealed, len, 0), KS_OK);
    ks_person *p = must_person(ADA);
    ASSERT_EQ_INT(p->totp_sealed_len, len);
    ASSERT(memcmp(p->totp_sealed, sealed, len) == 0);
    ASSERT_EQ_INT(p->totp_enabled, 0);
    ASSERT_EQ_INT(p->totp_last_step, 0);

    /* A step works once; older steps never again. */
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, id, 1000), KS_OK);
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, id, 1000), KS_ERR_GONE);
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, id, 999), KS_ERR_GONE);
    ASSERT_EQ_INT(must_person(ADA)->totp_last_step, 1000);
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, id, 1001), KS_OK);
    ASSERT_EQ_INT(must_person(ADA)->totp_last_step, 1001);
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, nobody, 5), KS_ERR_NOT_FOUND);

    /* Confirming (the same secret, enabled) keeps the step used to confirm. */
    ASSERT_EQ_INT(store->ops->person_totp_set(store, id, sealed, len, 1), KS_OK);
    p = must_person(ADA);
    ASSERT_EQ_INT(p->totp_enabled, 1);
    ASSERT_EQ_INT(p->totp_last_step, 1001);
    ASSERT_EQ_INT(store->ops->person_totp_step_use(store, id, 1001), KS_ERR_GONE);

    /* Removing, then a new secret: the steps start over. */
    ASSERT_EQ_INT(store->ops->person_totp_set(store, id, NULL, 0, 0), KS_OK);
    p = must_person(ADA);
    ASSERT_EQ_INT(p->totp_sealed_len, 0);
    ASSERT_EQ_INT(p->totp_enabled, 0);
    ASSERT_EQ_INT(store->ops->person_totp_set(store, id, other, len, 0), KS_OK);
    p = must_person(ADA);
    ASSERT(memcmp(p->totp_sealed, other, len) == 0);
    ASSERT_EQ_INT(p->totp_last_step, 0);
    ASSERT_EQ_INT(store->ops->person_totp_set(store, nobody, other, len, 0), KS_ERR_NOT_FOUND);
    /* NULL with enabled asks for nothing enabled. */
    ASSERT_EQ_INT(store->ops->person_totp_set(store, id, NULL, 0, 1), KS_OK);
    ASSERT_EQ_INT(must_person(ADA)->totp_enabled, 0);
}

static void test_signed_in(void)
{
    people_fixture();
    ASSERT_EQ_INT(add("acme", ADA, R0), KS_OK);
    int64_t id = must_person(ADA)->id;
    size_t audits = audit_count("acme");
    ASSERT_EQ_INT(store->ops->person_signed_in(store, id, T0 + 100, 0), KS_OK);
    ks_person *p = must_person(ADA);
    ASSERT_EQ_INT(p->last_sign_in_at, T0 + 100);
    ASSERT_EQ_INT(p->sso, 0);
    ASSERT_EQ_INT(store->ops->person_signed_in(store, id, T0 + 200, 1), KS_OK);
    ASSERT_EQ_INT(must_person(ADA)->sso, 1);
    ASSERT_EQ_INT(store->ops->person_signed_in(store, id, T0 + 300, 0), KS_OK);
    p = must_person(ADA);
    ASSERT_EQ_INT(p->last_sign_in_at, T0 + 300);
    ASSERT_EQ_INT(p->sso, 1); /* once by SSO stays so */
    ASSERT_EQ_INT(store->ops->person_signed_in(store, id + 1000, T0, 0), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), audits); /* the service audits, not this */
}

static void test_signin_failures(void)
{
    ks_digest h1 = tok("signin-failure", 1), h2 = tok("signin-failure", 2);
    int64_t times[8];
    size_t n = 99;
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, 0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h1, T0 + 2, 0), KS_OK);
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h1, T0, 0), KS_OK);
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h1, T0 + 1, 0), KS_OK);
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h1, T0 + 1, 0), KS_OK); /* two in one second */
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h2, T0 + 1, 0), KS_OK);
    /* Oldest first, from `since` on, at most max. */
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, T0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 4);
    ASSERT(times[0] == T0 && times[1] == T0 + 1 && times[2] == T0 + 1 && times[3] == T0 + 2);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, T0 + 1, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 3);
    ASSERT_EQ_INT(times[0], T0 + 1);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, T0, times, 2, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT(times[0] == T0 && times[1] == T0 + 1);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, T0 + 3, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    /* Clear: that email's only. */
    ASSERT_EQ_INT(store->ops->signin_failures_clear(store, &h1), KS_OK);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, 0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h2, 0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    /* Adding drops every failure older than purge_before. */
    ASSERT_EQ_INT(store->ops->signin_failure_add(store, &h1, T0 + 1000, T0 + 500), KS_OK);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h2, 0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->signin_failures(store, &h1, 0, times, 8, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(times[0], T0 + 1000);
}

const conf_test conf_tests_people[] = {
    CONF_TEST(test_member_add_get_list),
    CONF_TEST(test_member_add_errors_change_nothing),
    CONF_TEST(test_invitation_expiry_and_one_time_use),
    CONF_TEST(test_accepting_one_invitation_uses_the_others),
    CONF_TEST(test_member_update_roles_and_status),
    CONF_TEST(test_last_owner_counts_person_owners),
    CONF_TEST(test_sessions_end_on_deactivate_remove_password),
    CONF_TEST(test_totp_secret_and_steps),
    CONF_TEST(test_signed_in),
    CONF_TEST(test_signin_failures),
    {NULL, NULL},
};
