/*
 * manushya.hpp — the C++17 interface of libmanushya, header-only, over manushya.h.
 *
 * What it adds to the C API, and nothing more (each call makes one C call, named after it:
 * db::add is mn_memory_add, db::identity_get mn_identity_get):
 *  - RAII: manushya::db closes its handle, every result frees itself; handles and results
 *    move, never copy.
 *  - Errors two ways, one implementation: each call `try_x(...)` returns a result<T> holding
 *    the value or the failure (code, the library's message, the retry-after of MN_ELIMITED);
 *    `x(...)` is try_x(...).value(), which throws manushya::error on failure. Built without
 *    exceptions (-fno-exceptions), only the try_ forms exist, and value() of a failure aborts.
 *  - std::string_view in (copied where the C API needs a NUL-terminated string; a NUL inside
 *    one is MN_EINVAL naming the argument, never a silently shortened text), std::string_view
 *    views into results out, std::string / std::vector where the caller owns the text.
 *  - Builders for what the C API takes as structs and JSON text (memory_input, filter,
 *    list_options, search_options, metadata, ...), which own their strings.
 *  - Ranges over lists and searches that fetch the next page (next_cursor) as they go.
 * The raw C struct of every result stays reachable (raw()), so any field the wrappers do not
 * name is still there.
 *
 * Thread safety: as the C API's. One db may be used by many threads at once (its calls are
 * const); moving or destroying it must not race with calls on it. Results, actors and builders
 * may be read by many threads at once (a call only reads them: the C struct it passes is its
 * own temporary); changing one must not race with anything else using it. A memory_range is
 * one thread's.
 *
 * Adding a call: a try_ member that calls the C function through run() (or check() when it
 * returns nothing), and the one-line throwing form beside the others at the end of db. A new
 * field of a C struct the caller fills: a setter on its builder (a detail::field member for a
 * string, so it is checked like the others, and listed in problem()) and a line in its c().
 */
#ifndef MANUSHYA_HPP
#define MANUSHYA_HPP

#include <manushya.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define MANUSHYA_CXX_EXCEPTIONS 1
#else
#define MANUSHYA_CXX_EXCEPTIONS 0
#endif

namespace manushya {

/* The MN_* result codes. */
enum class errc : int {
    ok = MN_OK,
    error = MN_ERROR,
    invalid = MN_EINVAL,
    not_found = MN_ENOTFOUND,
    exists = MN_EEXISTS,
    denied = MN_EDENIED,
    limited = MN_ELIMITED,
    backend = MN_EBACKEND,
    no_memory = MN_ENOMEM,
    unsupported = MN_EUNSUPPORTED,
    corrupt = MN_ECORRUPT,
    range = MN_ERANGE,
    key = MN_EKEY
};

/* What a failed call left: its code, mn_errmsg's message, and mn_retry_after_ms (MN_ELIMITED:
 * the wait in ms until the call would fit, -1 never; otherwise 0). */
struct failure {
    errc code = errc::error;
    std::string message;
    int64_t retry_after_ms = 0;
};

#if MANUSHYA_CXX_EXCEPTIONS
/* Thrown by the calls without try_: what() is "<code name>: <message>". */
class error : public std::runtime_error {
public:
    explicit error(failure f)
        : std::runtime_error(std::string(mn_strerror(static_cast<int>(f.code))) + ": " +
                             f.message),
          f_(std::move(f)) {}
    errc code() const noexcept { return f_.code; }
    const std::string &message() const noexcept { return f_.message; }
    int64_t retry_after_ms() const noexcept { return f_.retry_after_ms; }

private:
    failure f_;
};
#endif

namespace detail {
[[noreturn]] inline void raise(const failure &f) {
#if MANUSHYA_CXX_EXCEPTIONS
    throw error(f);
#else
    std::fprintf(stderr, "manushya: value() of a failed result: %s: %s\n",
                 mn_strerror(static_cast<int>(f.code)), f.message.c_str());
    std::abort();
#endif
}
} // namespace detail

/* The value of a call, or why it failed. */
template <class T> class [[nodiscard]] result {
public:
    result(T value) : v_(std::move(value)) {}
    result(failure f) : v_(std::move(f)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    errc code() const noexcept { return ok() ? errc::ok : std::get<1>(v_).code; }
    /* The library's message; "" when ok. */
    const std::string &message() const noexcept {
        static const std::string none;
        return ok() ? none : std::get<1>(v_).message;
    }
    int64_t retry_after_ms() const noexcept { return ok() ? 0 : std::get<1>(v_).retry_after_ms; }
    /* The failure; only when !ok(). */
    const failure &error() const { return std::get<1>(v_); }

    /* The value: throws manushya::error (without exceptions: aborts) when the call failed. */
    T &value() & {
        if (!ok())
            detail::raise(error());
        return std::get<0>(v_);
    }
    const T &value() const & { return const_cast<result *>(this)->value(); }
    /* Of a temporary: the value itself, moved out (so `for (auto m : d.try_list(a).value())`
     * holds no reference into the temporary). */
    T value() && { return std::move(value()); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }

private:
    std::variant<T, failure> v_;
};

/* A call that returns nothing but its success. */
template <> class [[nodiscard]] result<void> {
public:
    result() = default;
    result(failure f) : f_(std::move(f)) {}

    bool ok() const noexcept { return !f_; }
    explicit operator bool() const noexcept { return ok(); }
    errc code() const noexcept { return f_ ? f_->code : errc::ok; }
    const std::string &message() const noexcept {
        static const std::string none;
        return f_ ? f_->message : none;
    }
    int64_t retry_after_ms() const noexcept { return f_ ? f_->retry_after_ms : 0; }
    const failure &error() const { return *f_; }
    void value() const {
        if (f_)
            detail::raise(*f_);
    }

private:
    std::optional<failure> f_;
};

namespace detail {

/* A versioned C struct as its MN_*_INIT makes it: every field zero but its version. */
template <class S> S init(unsigned version) {
    S s{};
    s.version = version;
    return s;
}

inline mn_memory_input input() {
    mn_memory_input in = init<mn_memory_input>(MN_MEMORY_INPUT_VERSION);
    in.importance = MN_IMPORTANCE_DEFAULT;
    return in;
}

template <class T, void (*Free)(T *)> struct deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T *)> using owned = std::unique_ptr<T, deleter<T, Free>>;

inline std::string_view sv(const char *s) noexcept { return s ? std::string_view(s) : std::string_view(); }

/* A string argument on its way to the C API: a NUL-terminated copy, and what is wrong with it
 * (a NUL inside, which the C API would read as its end). */
class zstr {
public:
    zstr(std::string_view v, const char *what) : s_(v), what_(what) {}
    const char *c_str() const noexcept { return s_.c_str(); }
    operator const char *() const noexcept { return s_.c_str(); }
    std::optional<std::string> problem() const {
        if (s_.find('\0') == std::string::npos)
            return std::nullopt;
        return std::string(what_) + " holds a NUL byte at offset " +
               std::to_string(s_.find('\0')) + ": the C API would cut it there; remove it";
    }

private:
    std::string s_;
    const char *what_;
};

/* A builder's field: unset (NULL to the C API: its default) or a string, checked as zstr. */
class field {
public:
    void set(std::string_view v, const char *what) {
        s_ = std::string(v);
        problem_ = zstr(v, what).problem();
    }
    const char *c_str() const noexcept { return s_ ? s_->c_str() : nullptr; }
    const std::optional<std::string> &problem() const noexcept { return problem_; }

private:
    std::optional<std::string> s_;
    std::optional<std::string> problem_;
};

/* A list of strings a C struct points at (const char *const *, n): the strings and the
 * pointers to them, the pointers made again whenever the strings move or are copied. */
class field_list {
public:
    field_list() = default;
    field_list(const field_list &o) : items_(o.items_), problem_(o.problem_) { point(); }
    field_list(field_list &&o) noexcept : items_(std::move(o.items_)), problem_(std::move(o.problem_)) { point(); }
    field_list &operator=(field_list o) noexcept {
        items_.swap(o.items_);
        problem_.swap(o.problem_);
        point();
        return *this;
    }
    void set(const std::vector<std::string_view> &v, const char *what) {
        items_.clear();
        problem_.reset();
        for (std::string_view s : v) {
            if (!problem_)
                problem_ = zstr(s, what).problem();
            items_.emplace_back(s);
        }
        point();
    }
    const char *const *data() const noexcept { return ptrs_.empty() ? nullptr : ptrs_.data(); }
    size_t size() const noexcept { return ptrs_.size(); }
    const std::optional<std::string> &problem() const noexcept { return problem_; }

private:
    void point() {
        ptrs_.clear();
        for (const auto &s : items_)
            ptrs_.push_back(s.c_str());
    }
    std::vector<std::string> items_;
    std::vector<const char *> ptrs_;
    std::optional<std::string> problem_;
};

/* The C struct a builder fills for one call, converting to the pointer the call takes. It is
 * a temporary of the call's expression (so it lives through the call), never copied (so a
 * pointer into it stays right), and a builder's own state is only read: one builder, actor or
 * options may serve calls in many threads at once. */
template <class S> class c_struct {
public:
    explicit c_struct(const S &s) : s_(s) {}
    c_struct(const c_struct &) = delete;
    c_struct &operator=(const c_struct &) = delete;
    operator const S *() const noexcept { return &s_; }
    const S &get() const noexcept { return s_; }

protected:
    S s_;
};

/* The first problem among the arguments of a call (anything with problem()). */
inline std::optional<std::string> first_problem() { return std::nullopt; }
template <class A, class... R>
std::optional<std::string> first_problem(const A &a, const R &...rest) {
    if (auto p = a.problem())
        return p;
    return first_problem(rest...);
}

/* A non-owning view of one item of a C list, by pointer. */
template <class C> class view {
public:
    using c_type = C;
    explicit view(const C *p) noexcept : p_(p) {}
    const C &raw() const noexcept { return *p_; }
    const C *operator->() const noexcept { return p_; }

protected:
    const C *p_;
};

/* A result the caller owns: a view (V) of a C struct (C) freed with Free. */
template <class V, class C, void (*Free)(C *)> class owning : public V {
public:
    explicit owning(C *p = nullptr) : V(p), own_(p) {}
    explicit operator bool() const noexcept { return own_ != nullptr; }

private:
    owned<C, Free> own_;
};

/* A list the caller owns ({ count, items }), its items seen through V; random access. */
template <class V, class L, void (*Free)(L *)> class list {
public:
    class iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using value_type = V;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = V;
        iterator() = default;
        iterator(const L *l, size_t i) : l_(l), i_(i) {}
        V operator*() const { return V(l_->items[i_]); }
        V operator[](difference_type n) const { return V(l_->items[i_ + n]); }
        iterator &operator++() { ++i_; return *this; }
        iterator operator++(int) { iterator t = *this; ++i_; return t; }
        iterator &operator--() { --i_; return *this; }
        iterator operator--(int) { iterator t = *this; --i_; return t; }
        iterator &operator+=(difference_type n) { i_ += n; return *this; }
        iterator &operator-=(difference_type n) { i_ -= n; return *this; }
        iterator operator+(difference_type n) const { return iterator(l_, i_ + n); }
        iterator operator-(difference_type n) const { return iterator(l_, i_ - n); }
        difference_type operator-(const iterator &o) const {
            return static_cast<difference_type>(i_) - static_cast<difference_type>(o.i_);
        }
        bool operator==(const iterator &o) const { return i_ == o.i_; }
        bool operator!=(const iterator &o) const { return i_ != o.i_; }
        bool operator<(const iterator &o) const { return i_ < o.i_; }

    private:
        const L *l_ = nullptr;
        size_t i_ = 0;
    };

    explicit list(L *l = nullptr) : l_(l) {}
    size_t size() const noexcept { return l_ ? l_->count : 0; }
    bool empty() const noexcept { return size() == 0; }
    V operator[](size_t i) const { return V(l_->items[i]); }
    iterator begin() const { return iterator(l_.get(), 0); }
    iterator end() const { return iterator(l_.get(), size()); }
    const L &raw() const noexcept { return *l_; }
    const L *get() const noexcept { return l_.get(); }
    using c_type = L;

private:
    owned<L, Free> l_;
};

} // namespace detail

/* ---- results --------------------------------------------------------------------------------
 * Views (x_view) borrow an item of a list and live no longer than it; the owning types (x)
 * free their struct. Strings are views into the result; "" where the C field is NULL. */
class memory_view : public detail::view<mn_memory> {
public:
    using view::view;
    std::string_view id() const { return detail::sv(p_->id); }
    std::string_view tenant_id() const { return detail::sv(p_->tenant_id); }
    std::string_view identity_id() const { return detail::sv(p_->identity_id); }
    std::string_view text() const { return detail::sv(p_->text); }
    std::string_view type() const { return detail::sv(p_->type); }
    std::string_view metadata() const { return detail::sv(p_->metadata); }
    std::string_view external_key() const { return detail::sv(p_->external_key); }
    std::string_view session() const { return detail::sv(p_->session); }
    double importance() const { return p_->importance; }
    int64_t version() const { return p_->version; }
    int64_t created_at() const { return p_->created_at; }
    int64_t updated_at() const { return p_->updated_at; }
    int64_t expires_at() const { return p_->expires_at; }
    bool deleted() const { return p_->deleted != 0; }
    double similarity() const { return p_->similarity; }
    double score() const { return p_->score; }
};
using memory = detail::owning<memory_view, mn_memory, mn_memory_free>;

/* One page of a list or search; next_cursor() is "" after the last. */
class memories : public detail::list<memory_view, mn_memories, mn_memories_free> {
public:
    using list::list;
    std::string_view next_cursor() const { return get() ? detail::sv(get()->next_cursor) : ""; }
};

class history_entry_view : public detail::view<mn_history_entry> {
public:
    using view::view;
    int64_t version() const { return p_->version; }
    int64_t changed_at() const { return p_->changed_at; }
    std::string_view changed_by() const { return detail::sv(p_->changed_by); }
    std::string_view before() const { return detail::sv(p_->before); }
    std::string_view after() const { return detail::sv(p_->after); }
};
using history = detail::list<history_entry_view, mn_history, mn_history_free>;

class tenant_view : public detail::view<mn_tenant> {
public:
    using view::view;
    std::string_view id() const { return detail::sv(p_->id); }
    std::string_view name() const { return detail::sv(p_->name); }
};
using tenant = detail::owning<tenant_view, mn_tenant, mn_tenant_free>;
using tenants = detail::list<tenant_view, mn_tenants, mn_tenants_free>;

class identity_view : public detail::view<mn_identity> {
public:
    using view::view;
    std::string_view id() const { return detail::sv(p_->id); }
    std::string_view external_id() const { return detail::sv(p_->external_id); }
    std::string_view role() const { return detail::sv(p_->role); }
    std::string_view claims() const { return detail::sv(p_->claims); }
    bool active() const { return p_->active != 0; }
};
using identity = detail::owning<identity_view, mn_identity, mn_identity_free>;
using identities = detail::list<identity_view, mn_identities, mn_identities_free>;

class policy_view : public detail::view<mn_policy> {
public:
    using view::view;
    std::string_view id() const { return detail::sv(p_->id); }
    std::string_view role() const { return detail::sv(p_->role); }
    std::string_view rule() const { return detail::sv(p_->rule); }
    std::string_view description() const { return detail::sv(p_->description); }
    int priority() const { return p_->priority; }
    bool active() const { return p_->active != 0; }
};
using policy = detail::owning<policy_view, mn_policy, mn_policy_free>;
using policies = detail::list<policy_view, mn_policies, mn_policies_free>;

class decision_view : public detail::view<mn_decision> {
public:
    using view::view;
    bool allowed() const { return p_->allowed != 0; }
    std::string_view policy_id() const { return detail::sv(p_->policy_id); }
    std::string_view reason() const { return detail::sv(p_->reason); }
};
using decision = detail::owning<decision_view, mn_decision, mn_decision_free>;

class apikey_view : public detail::view<mn_apikey> {
public:
    using view::view;
    std::string_view id() const { return detail::sv(p_->id); }
    std::string_view identity_id() const { return detail::sv(p_->identity_id); }
    std::string_view scopes() const { return detail::sv(p_->scopes); }
    int64_t expires_at() const { return p_->expires_at; }
};
using apikey = detail::owning<apikey_view, mn_apikey, mn_apikey_free>;
using apikeys = detail::list<apikey_view, mn_apikeys, mn_apikeys_free>;

class limit_view : public detail::view<mn_limit> {
public:
    using view::view;
    std::string_view endpoint() const { return detail::sv(p_->endpoint); }
    int64_t limit() const { return p_->limit; }
    int64_t window_ms() const { return p_->window_ms; }
    bool overridden() const { return p_->overridden != 0; }
};
using limit = detail::owning<limit_view, mn_limit, mn_limit_free>;
using limits = detail::list<limit_view, mn_limits, mn_limits_free>;

/* What mn_memory_put did, and the memory. */
struct put_result {
    int outcome; /* MN_PUT_CREATED, MN_PUT_UPDATED or MN_PUT_UNCHANGED */
    memory item;
};

/* A new API key: the key itself (shown this once) and what lists show of it. */
struct new_apikey {
    std::string key;
    apikey info;
};

/* ---- builders -------------------------------------------------------------------------------
 * Each owns its strings and fills its C struct (c()) when a call reads it. Setters chain. */

/* A JSON object, built without writing JSON: keys in the order first set (setting a key again
 * replaces its value), strings escaped as RFC 8259 wants. Numbers are written as C++ has them
 * (doubles with 17 significant digits); what the library refuses in JSON (an integer past
 * 2^53, a non-finite double, written NaN or Infinity) fails the call that takes it with
 * MN_EINVAL naming the key. */
class metadata {
public:
    metadata &set(std::string_view key, std::string_view value) { return put(key, quote(value)); }
    metadata &set(std::string_view key, const char *value) { return set(key, std::string_view(value)); }
    metadata &set(std::string_view key, const std::string &value) { return set(key, std::string_view(value)); }
    metadata &set(std::string_view key, bool value) { return put(key, value ? "true" : "false"); }
    metadata &set(std::string_view key, std::nullptr_t) { return put(key, "null"); }
    metadata &set(std::string_view key, const metadata &object) { return put(key, object.str()); }
    template <class N, std::enable_if_t<std::is_arithmetic_v<N> && !std::is_same_v<N, bool>, int> = 0>
    metadata &set(std::string_view key, N value) { return put(key, number(value)); }
    /* A list of strings, as a JSON array. */
    metadata &set(std::string_view key, const std::vector<std::string> &values) { return put(key, array(values)); }
    bool empty() const noexcept { return members_.empty(); }
    /* The JSON text: {"key":value,...}. */
    std::string str() const {
        std::string s = "{";
        for (const auto &m : members_)
            s += (s.size() > 1 ? "," : "") + quote(m.first) + ":" + m.second;
        return s + "}";
    }

    /* s as a JSON string literal, quotes included. */
    static std::string quote(std::string_view s) {
        std::string o = "\"";
        for (char ch : s) {
            unsigned char c = static_cast<unsigned char>(ch);
            switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\b': o += "\\b"; break;
            case '\f': o += "\\f"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) {
                    char u[8];
                    std::snprintf(u, sizeof u, "\\u%04x", c);
                    o += u;
                } else {
                    o += ch;
                }
            }
        }
        return o + "\"";
    }
    /* values as a JSON array of strings. */
    static std::string array(const std::vector<std::string> &values) {
        std::string a = "[";
        for (const auto &v : values)
            a += (a.size() > 1 ? "," : "") + quote(v);
        return a + "]";
    }

private:
    template <class N> static std::string number(N v) {
        if constexpr (std::is_integral_v<N>) {
            return std::to_string(v);
        } else {
            if (v != v)
                return "NaN";
            if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
                return v > 0 ? "Infinity" : "-Infinity";
            char b[32];
            std::snprintf(b, sizeof b, "%.17g", static_cast<double>(v));
            return b;
        }
    }
    metadata &put(std::string_view key, std::string json) {
        for (auto &m : members_)
            if (m.first == key) {
                m.second = std::move(json);
                return *this;
            }
        members_.emplace_back(std::string(key), std::move(json));
        return *this;
    }
    std::vector<std::pair<std::string, std::string>> members_;
};

/* Who a call is made for (mn_actor). */
class actor {
public:
    /* The tenant's trusted system actor (no identity). */
    static actor system(std::string_view tenant_name) { return actor().tenant(tenant_name); }
    /* An identity (id or external_id) of the tenant. */
    static actor of(std::string_view tenant_name, std::string_view identity_name) {
        return actor().tenant(tenant_name).identity(identity_name);
    }
    /* Whoever the API key ("mk_...") acts for. */
    static actor by_key(std::string_view api_key) {
        actor a;
        a.key_.set(api_key, "the actor's api_key");
        return a;
    }
    actor &tenant(std::string_view v) { tenant_.set(v, "the actor's tenant"); return *this; }
    actor &identity(std::string_view v) { identity_.set(v, "the actor's identity"); return *this; }
    actor &context(std::string_view json) { context_.set(json, "the actor's context"); return *this; }
    actor &context(const metadata &m) { return context(m.str()); }

    detail::c_struct<mn_actor> c() const {
        mn_actor c = detail::init<mn_actor>(MN_ACTOR_VERSION);
        c.tenant = tenant_.c_str();
        c.identity = identity_.c_str();
        c.context = context_.c_str();
        c.api_key = key_.c_str();
        return detail::c_struct<mn_actor>(c);
    }
    std::optional<std::string> problem() const {
        return detail::first_problem(tenant_, identity_, context_, key_);
    }

private:
    detail::field tenant_, identity_, context_, key_;
};

/* What list and search select (mn_filter). */
class filter {
public:
    filter &identity(std::string_view v) { identity_.set(v, "the filter's identity"); return *this; }
    filter &type(std::string_view v) { type_.set(v, "the filter's type"); return *this; }
    filter &metadata(std::string_view json) { metadata_.set(json, "the filter's metadata"); return *this; }
    filter &metadata(const manushya::metadata &m) { return metadata(m.str()); }
    filter &flags(unsigned f) { c_.flags = f; return *this; } /* MN_WITH_* */
    filter &with_deleted() { c_.flags |= MN_WITH_DELETED; return *this; }
    filter &with_expired() { c_.flags |= MN_WITH_EXPIRED; return *this; }
    /* An identity's calls see its own memories unless this is set (MN_ALL_READABLE). */
    filter &all_readable() { c_.flags |= MN_ALL_READABLE; return *this; }
    /* since 1.4: conversations, any-of lists and ranges (mn_filter version 2) */
    filter &session(std::string_view v) { session_.set(v, "the filter's session"); return *this; }
    filter &sessions(const std::vector<std::string_view> &v) { sessions_.set(v, "the filter's sessions"); return *this; }
    filter &types(const std::vector<std::string_view> &v) { types_.set(v, "the filter's types"); return *this; }
    filter &identities(const std::vector<std::string_view> &v) { identities_.set(v, "the filter's identities"); return *this; }
    filter &created(int64_t after_ms, int64_t before_ms) {
        c_.created_after = after_ms;
        c_.created_before = before_ms;
        return *this;
    }
    filter &updated(int64_t after_ms, int64_t before_ms) {
        c_.updated_after = after_ms;
        c_.updated_before = before_ms;
        return *this;
    }
    filter &importance(double min, double max) {
        c_.importance_min = min;
        c_.importance_max = max;
        return *this;
    }

    detail::c_struct<mn_filter> c() const {
        mn_filter c = c_;
        c.identity = identity_.c_str();
        c.type = type_.c_str();
        c.metadata = metadata_.c_str();
        c.session = session_.c_str();
        c.sessions = sessions_.data();
        c.n_sessions = sessions_.size();
        c.types = types_.data();
        c.n_types = types_.size();
        c.identities = identities_.data();
        c.n_identities = identities_.size();
        return detail::c_struct<mn_filter>(c);
    }
    std::optional<std::string> problem() const {
        return detail::first_problem(identity_, type_, metadata_, session_, sessions_, types_,
                                     identities_);
    }

private:
    detail::field identity_, type_, metadata_, session_;
    detail::field_list sessions_, types_, identities_;
    mn_filter c_ = detail::init<mn_filter>(MN_FILTER_VERSION);
};

namespace detail {
/* Options that point at their filter (list, search), the filter kept beside them. */
template <class O> class c_with_filter : public c_struct<O> {
public:
    c_with_filter(const O &o, const std::optional<manushya::filter> &f)
        : c_struct<O>(o), f_(f ? f->c().get() : init<mn_filter>(MN_FILTER_VERSION)) {
        this->s_.filter = f ? &f_ : nullptr;
    }

private:
    mn_filter f_;
};
} // namespace detail

/* A new memory (mn_memory_input). */
class memory_input {
public:
    memory_input() = default;
    explicit memory_input(std::string_view text) { this->text(text); }
    memory_input &text(std::string_view v) { text_.set(v, "the memory's text"); return *this; }
    memory_input &type(std::string_view v) { type_.set(v, "the memory's type"); return *this; }
    memory_input &metadata(std::string_view json) { metadata_.set(json, "the memory's metadata"); return *this; }
    memory_input &metadata(const manushya::metadata &m) { return metadata(m.str()); }
    memory_input &owner(std::string_view v) { owner_.set(v, "the memory's identity"); return *this; }
    memory_input &external_key(std::string_view v) { key_.set(v, "the memory's external_key"); return *this; }
    memory_input &id(std::string_view v) { id_.set(v, "the memory's id"); return *this; }
    memory_input &importance(double v) { c_.importance = v; return *this; }
    memory_input &ttl_days(int v) { c_.ttl_days = v; return *this; }
    /* since 1.4 */
    memory_input &session(std::string_view v) { session_.set(v, "the memory's session"); return *this; }
    memory_input &ttl_ms(int64_t v) { c_.ttl_ms = v; return *this; }
    memory_input &expires_at(int64_t ms) { c_.expires_at = ms; return *this; }
    /* The caller's vector (mn_embed_dim floats): copied. */
    memory_input &embedding(std::vector<float> v) { embedding_ = std::move(v); return *this; }

    detail::c_struct<mn_memory_input> c() const {
        mn_memory_input c = c_;
        c.identity = owner_.c_str();
        c.text = text_.c_str();
        c.type = type_.c_str();
        c.metadata = metadata_.c_str();
        c.external_key = key_.c_str();
        c.id = id_.c_str();
        c.session = session_.c_str();
        c.embedding = embedding_.empty() ? nullptr : embedding_.data();
        c.dim = static_cast<int>(embedding_.size());
        return detail::c_struct<mn_memory_input>(c);
    }
    std::optional<std::string> problem() const {
        return detail::first_problem(text_, type_, metadata_, owner_, key_, id_, session_);
    }

private:
    detail::field text_, type_, metadata_, owner_, key_, id_, session_;
    std::vector<float> embedding_;
    mn_memory_input c_ = detail::input();
};

/* What mn_memory_update changes: each setter names its field (MN_MEMORY_SET_*). */
class memory_changes {
public:
    memory_changes &text(std::string_view v) { text_.set(v, "the new text"); c_.set |= MN_MEMORY_SET_TEXT; return *this; }
    memory_changes &type(std::string_view v) { type_.set(v, "the new type"); c_.set |= MN_MEMORY_SET_TYPE; return *this; }
    memory_changes &metadata(std::string_view json) {
        metadata_.set(json, "the new metadata");
        c_.set |= MN_MEMORY_SET_METADATA;
        return *this;
    }
    memory_changes &metadata(const manushya::metadata &m) { return metadata(m.str()); }
    memory_changes &importance(double v) { c_.importance = v; c_.set |= MN_MEMORY_SET_IMPORTANCE; return *this; }

    detail::c_struct<mn_memory_changes> c() const {
        mn_memory_changes c = c_;
        c.text = text_.c_str();
        c.type = type_.c_str();
        c.metadata = metadata_.c_str();
        return detail::c_struct<mn_memory_changes>(c);
    }
    std::optional<std::string> problem() const { return detail::first_problem(text_, type_, metadata_); }

private:
    detail::field text_, type_, metadata_;
    mn_memory_changes c_ = detail::init<mn_memory_changes>(MN_MEMORY_CHANGES_VERSION);
};

/* A page of mn_memory_list. */
class list_options {
public:
    list_options &where(const manushya::filter &f) { filter_ = f; return *this; }
    list_options &limit(int n) { c_.limit = n; return *this; }
    list_options &cursor(std::string_view v) { cursor_.set(v, "the cursor"); return *this; }

    detail::c_with_filter<mn_list_options> c() const {
        mn_list_options c = c_;
        c.cursor = cursor_.c_str();
        return detail::c_with_filter<mn_list_options>(c, filter_);
    }
    std::optional<std::string> problem() const {
        if (auto p = filter_ ? filter_->problem() : std::nullopt)
            return p;
        return cursor_.problem();
    }

private:
    std::optional<manushya::filter> filter_;
    detail::field cursor_;
    mn_list_options c_ = detail::init<mn_list_options>(MN_LIST_OPTIONS_VERSION);
};

/* A search (mn_memory_search): a query text (or a vector), k, a filter, ranking. */
class search_options {
public:
    search_options() = default;
    explicit search_options(std::string_view query) { this->query(query); }
    search_options &query(std::string_view v) { query_.set(v, "the query"); return *this; }
    search_options &vector(std::vector<float> v) { vector_ = std::move(v); return *this; }
    search_options &k(int n) { c_.k = n; return *this; }
    search_options &where(const manushya::filter &f) { filter_ = f; return *this; }
    search_options &min_similarity(double v) { c_.min_similarity = v; return *this; }
    search_options &mode(int m) { c_.mode = m; return *this; } /* MN_SEARCH_* */
    search_options &recency(int64_t half_life_ms, double weight) {
        c_.recency_half_life_ms = half_life_ms;
        c_.recency_weight = weight;
        return *this;
    }
    search_options &importance_weight(double w) { c_.importance_weight = w; return *this; }
    search_options &cursor(std::string_view v) { cursor_.set(v, "the cursor"); return *this; }

    detail::c_with_filter<mn_search_options> c() const {
        mn_search_options c = c_;
        c.query = query_.c_str();
        c.vector = vector_.empty() ? nullptr : vector_.data();
        c.dim = static_cast<int>(vector_.size());
        c.cursor = cursor_.c_str();
        return detail::c_with_filter<mn_search_options>(c, filter_);
    }
    std::optional<std::string> problem() const {
        if (auto p = filter_ ? filter_->problem() : std::nullopt)
            return p;
        return detail::first_problem(query_, cursor_);
    }

private:
    detail::field query_, cursor_;
    std::vector<float> vector_;
    std::optional<manushya::filter> filter_;
    mn_search_options c_ = detail::init<mn_search_options>(MN_SEARCH_OPTIONS_VERSION);
};

/* A new policy (mn_policy_input). */
class policy_input {
public:
    policy_input(std::string_view role, std::string_view rule) {
        role_.set(role, "the policy's role");
        rule_.set(rule, "the policy's rule");
    }
    policy_input &description(std::string_view v) { description_.set(v, "the policy's description"); return *this; }
    policy_input &priority(int p) { c_.priority = p; return *this; }
    policy_input &inactive() { c_.inactive = 1; return *this; }

    detail::c_struct<mn_policy_input> c() const {
        mn_policy_input c = c_;
        c.role = role_.c_str();
        c.rule = rule_.c_str();
        c.description = description_.c_str();
        return detail::c_struct<mn_policy_input>(c);
    }
    std::optional<std::string> problem() const { return detail::first_problem(role_, rule_, description_); }

private:
    detail::field role_, rule_, description_;
    mn_policy_input c_ = detail::init<mn_policy_input>(MN_POLICY_INPUT_VERSION);
};

/* What mn_policy_update changes: each setter names its field (MN_POLICY_SET_*). */
class policy_changes {
public:
    policy_changes &role(std::string_view v) { role_.set(v, "the new role"); c_.set |= MN_POLICY_SET_ROLE; return *this; }
    policy_changes &rule(std::string_view v) { rule_.set(v, "the new rule"); c_.set |= MN_POLICY_SET_RULE; return *this; }
    policy_changes &description(std::string_view v) {
        description_.set(v, "the new description");
        c_.set |= MN_POLICY_SET_DESCRIPTION;
        return *this;
    }
    policy_changes &priority(int p) { c_.priority = p; c_.set |= MN_POLICY_SET_PRIORITY; return *this; }
    policy_changes &active(bool on) { c_.active = on; c_.set |= MN_POLICY_SET_ACTIVE; return *this; }

    detail::c_struct<mn_policy_changes> c() const {
        mn_policy_changes c = c_;
        c.role = role_.c_str();
        c.rule = rule_.c_str();
        c.description = description_.c_str();
        return detail::c_struct<mn_policy_changes>(c);
    }
    std::optional<std::string> problem() const { return detail::first_problem(role_, rule_, description_); }

private:
    detail::field role_, rule_, description_;
    mn_policy_changes c_ = detail::init<mn_policy_changes>(MN_POLICY_CHANGES_VERSION);
};

/* A new API key (mn_apikey_input) for an identity. */
class apikey_input {
public:
    explicit apikey_input(std::string_view owner) { identity_.set(owner, "the key's identity"); }
    /* "resource:action" pairs the key is narrowed to. */
    apikey_input &scopes(const std::vector<std::string> &s) {
        scopes_.set(metadata::array(s), "the key's scopes");
        return *this;
    }
    apikey_input &expires_at(int64_t ms) { c_.expires_at = ms; return *this; }

    detail::c_struct<mn_apikey_input> c() const {
        mn_apikey_input c = c_;
        c.identity = identity_.c_str();
        c.scopes = scopes_.c_str();
        return detail::c_struct<mn_apikey_input>(c);
    }
    std::optional<std::string> problem() const { return detail::first_problem(identity_, scopes_); }

private:
    detail::field identity_, scopes_;
    mn_apikey_input c_ = detail::init<mn_apikey_input>(MN_APIKEY_INPUT_VERSION);
};

/* ---- paging ----------------------------------------------------------------------------------
 * Every memory of a list or search, page after page: an input range whose iterator fetches the
 * next page (the previous page's next_cursor) when it steps past the last item of one. The
 * memory_view an iterator yields is valid until the iterator moves past its page. A page that
 * fails ends the iteration: the range from try_each / try_search_each keeps the failure
 * (ok(), error()); the one from each / search_each throws it from begin() or ++. A range is
 * iterated once (one begin()), moves but never copies, and stays where it is while iterated. */
class memory_range {
public:
    /* Fetches the page at cursor (nullptr: the first). */
    using fetch_fn = std::function<result<memories>(const char *cursor)>;

    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = memory_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = memory_view;
        iterator() = default;
        explicit iterator(memory_range *r) : r_(r) { settle(); }
        memory_view operator*() const { return r_->page_[i_]; }
        iterator &operator++() {
            ++i_;
            settle();
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(const iterator &o) const { return r_ == o.r_; }
        bool operator!=(const iterator &o) const { return r_ != o.r_; }

    private:
        /* Moves to the next page while this one is spent; the end when none follows. */
        void settle() {
            while (r_ && i_ >= r_->page_.size()) {
                i_ = 0;
                if (!r_->next_page())
                    r_ = nullptr;
            }
        }
        memory_range *r_ = nullptr;
        size_t i_ = 0;
    };

    memory_range(fetch_fn fetch, bool throws) : fetch_(std::move(fetch)), throws_(throws) {}
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }
    /* After the iteration: whether every page came. */
    bool ok() const noexcept { return !failed_; }
    const failure &error() const { return *failed_; }
    size_t pages() const noexcept { return pages_; }

private:
    /* Fetches the page after the current one into page_; false at the end or on failure. */
    bool next_page() {
        if (started_ && cursor_.empty())
            return false;
        result<memories> r = fetch_(started_ ? cursor_.c_str() : nullptr);
        started_ = true;
        if (!r.ok()) {
            failed_ = r.error();
            page_ = memories();
            if (throws_)
                detail::raise(*failed_);
            return false;
        }
        page_ = std::move(r.value());
        cursor_ = std::string(page_.next_cursor());
        pages_++;
        return true;
    }

    fetch_fn fetch_;
    bool throws_;
    bool started_ = false;
    std::string cursor_;
    memories page_;
    std::optional<failure> failed_;
    size_t pages_ = 0;
};

/* ---- the handle ------------------------------------------------------------------------------ */
class db {
public:
    /* Opens url (mn_open); cfg as mn_config wants it (MN_CONFIG_INIT, then fields), or none for
     * every default. */
    static result<db> try_open(std::string_view url, const mn_config *cfg = nullptr) {
        detail::zstr u(url, "the URL");
        if (auto p = u.problem())
            return failure{errc::invalid, *p, 0};
        mn_db *h = nullptr;
        int rc = mn_open(&h, u, cfg);
        db d(h);
        if (rc != MN_OK)
            return d.fail(rc);
        return result<db>(std::move(d));
    }

    db(db &&) noexcept = default;
    db &operator=(db &&) noexcept = default;
    /* The C handle, for calls this header does not wrap. */
    mn_db *handle() const noexcept { return h_.get(); }
    int embed_dim() const { return mn_embed_dim(handle()); }

    /* ---- tenants (host calls: no actor) ---- */
    result<tenant> try_tenant_create(std::string_view name) const {
        detail::zstr n(name, "the tenant name");
        return run<tenant>([&](mn_tenant **o) { return mn_tenant_create(handle(), n, o); }, n);
    }
    result<tenant> try_tenant_get(std::string_view id_or_name) const {
        detail::zstr n(id_or_name, "the tenant");
        return run<tenant>([&](mn_tenant **o) { return mn_tenant_get(handle(), n, o); }, n);
    }
    result<tenants> try_tenant_list() const {
        return run<tenants>([&](mn_tenants **o) { return mn_tenant_list(handle(), o); });
    }
    result<void> try_tenant_delete(std::string_view id_or_name) const {
        detail::zstr n(id_or_name, "the tenant");
        return check([&] { return mn_tenant_delete(handle(), n); }, n);
    }

    /* ---- identities ---- */
    result<identity> try_identity_create(const actor &a, std::string_view external_id,
                                         std::string_view role = "agent",
                                         std::string_view claims = "{}") const {
        detail::zstr e(external_id, "the external_id"), r(role, "the role"), c(claims, "the claims");
        return run<identity>([&](mn_identity **o) {
            return mn_identity_create(handle(), a.c(), e, r, c, o);
        }, a, e, r, c);
    }
    result<identity> try_identity_get(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the identity");
        return run<identity>([&](mn_identity **o) { return mn_identity_get(handle(), a.c(), i, o); }, a, i);
    }
    result<identities> try_identity_list(const actor &a) const {
        return run<identities>([&](mn_identities **o) { return mn_identity_list(handle(), a.c(), o); }, a);
    }
    result<void> try_identity_deactivate(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the identity");
        return check([&] { return mn_identity_deactivate(handle(), a.c(), i); }, a, i);
    }
    result<void> try_identity_delete(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the identity");
        return check([&] { return mn_identity_delete(handle(), a.c(), i); }, a, i);
    }

    /* ---- memories ---- */
    result<memory> try_add(const actor &a, const memory_input &in) const {
        return run<memory>([&](mn_memory **o) { return mn_memory_add(handle(), a.c(), in.c(), o); }, a, in);
    }
    /* All or none; the ids in input order. A failure's message names the bad input. */
    result<std::vector<std::string>> try_add_many(const actor &a, const std::vector<memory_input> &in) const {
        return many(a, in, nullptr);
    }
    /* Adds, or updates the memory the input's external_key or id names, or finds the one it
     * repeats: what happened, and the memory. */
    result<put_result> try_put(const actor &a, const memory_input &in) const {
        int outcome = MN_PUT_CREATED;
        result<memory> m = run<memory>([&](mn_memory **o) {
            return mn_memory_put(handle(), a.c(), in.c(), &outcome, o);
        }, a, in);
        if (!m.ok())
            return m.error();
        return put_result{outcome, std::move(m.value())};
    }
    /* mn_memory_put_many: the ids, and what became of each input in outcomes. */
    result<std::vector<std::string>> try_put_many(const actor &a, const std::vector<memory_input> &in,
                                                  std::vector<int> &outcomes) const {
        outcomes.assign(in.size(), MN_PUT_CREATED);
        return many(a, in, &outcomes);
    }
    result<memory> try_get(const actor &a, std::string_view id, unsigned flags = 0) const {
        detail::zstr i(id, "the memory id");
        return run<memory>([&](mn_memory **o) { return mn_memory_get(handle(), a.c(), i, flags, o); }, a, i);
    }
    /* One page, newest first; memories::next_cursor() continues it. */
    result<memories> try_list(const actor &a, const list_options &opt = list_options()) const {
        return run<memories>([&](mn_memories **o) { return mn_memory_list(handle(), a.c(), opt.c(), o); }, a, opt);
    }
    /* One page of hits, best first. */
    result<memories> try_search(const actor &a, const search_options &opt) const {
        return run<memories>([&](mn_memories **o) { return mn_memory_search(handle(), a.c(), opt.c(), o); }, a, opt);
    }
    /* Every memory the list selects, page after page (see memory_range). */
    memory_range try_each(const actor &a, const list_options &opt = list_options()) const {
        return pages(&db::try_list, a, opt, false);
    }
    /* Every hit of the search, k at a time. */
    memory_range try_search_each(const actor &a, const search_options &opt) const {
        return pages(&db::try_search, a, opt, false);
    }
    result<memory> try_update(const actor &a, std::string_view id, const memory_changes &ch) const {
        detail::zstr i(id, "the memory id");
        return run<memory>([&](mn_memory **o) {
            return mn_memory_update(handle(), a.c(), i, ch.c(), o);
        }, a, i, ch);
    }
    /* mn_memory_delete: MN_DELETE_SOFT (restorable) or MN_DELETE_HARD. */
    result<void> try_remove(const actor &a, std::string_view id, int mode = MN_DELETE_SOFT) const {
        detail::zstr i(id, "the memory id");
        return check([&] { return mn_memory_delete(handle(), a.c(), i, mode); }, a, i);
    }
    /* All or none. */
    result<void> try_remove_many(const actor &a, const std::vector<std::string> &ids,
                                 int mode = MN_DELETE_SOFT) const {
        std::vector<detail::zstr> z;
        std::vector<const char *> p;
        for (const auto &id : ids) {
            z.emplace_back(id, "a memory id");
            if (auto bad = z.back().problem())
                return failure{errc::invalid, *bad, 0};
        }
        for (const auto &s : z)
            p.push_back(s);
        return check([&] { return mn_memory_delete_many(handle(), a.c(), p.data(), p.size(), mode); }, a);
    }
    /* since 1.4: the memories a filter selects, as mn_memory_list would list them. */
    result<size_t> try_count(const actor &a, const filter &f = filter()) const {
        size_t n = 0;
        result<void> r = check([&] { return mn_memory_count(handle(), a.c(), f.c(), &n); }, a, f);
        if (!r.ok())
            return r.error();
        return n;
    }
    /* All or none; a filter without condition needs MN_DELETE_ALL_MATCHING in mode. The
     * number deleted. */
    result<size_t> try_remove_where(const actor &a, const filter &f, int mode = MN_DELETE_SOFT) const {
        size_t n = 0;
        result<void> r = check([&] { return mn_memory_delete_where(handle(), a.c(), f.c(), mode, &n); }, a, f);
        if (!r.ok())
            return r.error();
        return n;
    }
    /* Keeps the newest `keep` memories the filter selects (a conversation: filter().session(s))
     * and deletes the rest, all or none. The number deleted. */
    result<size_t> try_trim(const actor &a, const filter &f, size_t keep, int mode = MN_DELETE_SOFT) const {
        size_t n = 0;
        result<void> r = check([&] { return mn_memory_trim(handle(), a.c(), f.c(), keep, mode, &n); }, a, f);
        if (!r.ok())
            return r.error();
        return n;
    }
    /* Several searches in one call, their query texts embedded in one batch: one page each,
     * in order. */
    result<std::vector<memories>> try_search_many(const actor &a, const std::vector<search_options> &opts) const {
        using c_opts = decltype(opts.front().c());
        std::vector<std::unique_ptr<c_opts>> keep; /* each option's filter lives in its c() */
        std::vector<mn_search_options> c;
        for (const auto &o : opts) {
            if (auto p = o.problem())
                return failure{errc::invalid, "search " + std::to_string(c.size()) + ": " + *p, 0};
            keep.emplace_back(new auto(o.c()));
            c.push_back(keep.back()->get());
        }
        mn_memories **out = nullptr;
        result<void> r = check([&] { return mn_memory_search_many(handle(), a.c(), c.data(), c.size(), &out); }, a);
        if (!r.ok())
            return r.error();
        std::vector<memories> pages;
        for (size_t i = 0; i < c.size(); i++)
            pages.emplace_back(out[i]); /* each page freed by its memories, */
        mn_free(out);                   /* the array by the library */
        return result<std::vector<memories>>(std::move(pages));
    }
    result<void> try_restore(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the memory id");
        return check([&] { return mn_memory_restore(handle(), a.c(), i); }, a, i);
    }
    result<history> try_memory_history(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the memory id");
        return run<history>([&](mn_history **o) { return mn_memory_history(handle(), a.c(), i, o); }, a, i);
    }

    /* ---- policies ---- */
    result<policy> try_policy_add(const actor &a, const policy_input &in) const {
        return run<policy>([&](mn_policy **o) { return mn_policy_add(handle(), a.c(), in.c(), o); }, a, in);
    }
    result<policy> try_policy_get(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the policy id");
        return run<policy>([&](mn_policy **o) { return mn_policy_get(handle(), a.c(), i, o); }, a, i);
    }
    result<policies> try_policy_list(const actor &a) const {
        return run<policies>([&](mn_policies **o) { return mn_policy_list(handle(), a.c(), o); }, a);
    }
    result<policy> try_policy_update(const actor &a, std::string_view id, const policy_changes &ch) const {
        detail::zstr i(id, "the policy id");
        return run<policy>([&](mn_policy **o) {
            return mn_policy_update(handle(), a.c(), i, ch.c(), o);
        }, a, i, ch);
    }
    result<void> try_policy_delete(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the policy id");
        return check([&] { return mn_policy_delete(handle(), a.c(), i); }, a, i);
    }
    /* The decision a call would get: action ("read", ...) on resource ("memory", ...). */
    result<decision> try_policy_test(const actor &a, std::string_view action, std::string_view resource,
                                     std::string_view resource_data = "{}") const {
        detail::zstr ac(action, "the action"), r(resource, "the resource"), d(resource_data, "the resource data");
        return run<decision>([&](mn_decision **o) {
            return mn_policy_test(handle(), a.c(), ac, r, d, o);
        }, a, ac, r, d);
    }

    /* ---- API keys: actor::by_key(key) acts by one ---- */
    result<new_apikey> try_apikey_create(const actor &a, const apikey_input &in) const {
        char *key = nullptr;
        result<apikey> info = run<apikey>([&](mn_apikey **o) {
            return mn_apikey_create(handle(), a.c(), in.c(), &key, o);
        }, a, in);
        detail::owned<void, mn_free> own(key);
        if (!info.ok())
            return info.error();
        return new_apikey{std::string(key), std::move(info.value())};
    }
    /* The tenant's keys, or one identity's. */
    result<apikeys> try_apikey_list(const actor &a, std::string_view owner = {}) const {
        detail::zstr i(owner, "the identity");
        return run<apikeys>([&](mn_apikeys **o) {
            return mn_apikey_list(handle(), a.c(), owner.empty() ? nullptr : i.c_str(), o);
        }, a, i);
    }
    result<void> try_apikey_revoke(const actor &a, std::string_view id) const {
        detail::zstr i(id, "the key id");
        return check([&] { return mn_apikey_revoke(handle(), a.c(), i); }, a, i);
    }
    result<apikey> try_apikey_verify(std::string_view key) const {
        detail::zstr k(key, "the key");
        return run<apikey>([&](mn_apikey **o) { return mn_apikey_verify(handle(), k, o); }, k);
    }

    /* ---- rate limits ---- */
    /* Whether n calls of the actor to endpoint would be admitted now, counting nothing. */
    result<mn_ratelimit_result> try_ratelimit_peek(const actor &a, std::string_view endpoint, int64_t n = 1) const {
        return ratelimit(a, endpoint, n, mn_ratelimit_peek);
    }
    /* Counts n calls when they fit; limits::limited (with retry_after_ms) when not. */
    result<mn_ratelimit_result> try_ratelimit_hit(const actor &a, std::string_view endpoint, int64_t n = 1) const {
        return ratelimit(a, endpoint, n, mn_ratelimit_hit);
    }
    result<limits> try_limit_list(const actor &a) const {
        return run<limits>([&](mn_limits **o) { return mn_limit_list(handle(), a.c(), o); }, a);
    }
    result<void> try_limit_set(const actor &a, std::string_view endpoint, int64_t calls, int64_t window_ms) const {
        detail::zstr e(endpoint, "the endpoint");
        return check([&] { return mn_limit_set(handle(), a.c(), e, calls, window_ms); }, a, e);
    }

    /* ---- metrics and health ---- */
    /* MN_METRICS_PROMETHEUS or MN_METRICS_JSON. */
    result<std::string> try_metrics(int format = MN_METRICS_PROMETHEUS) const {
        return text([&](char **o) { return mn_metrics_write(handle(), format, o); });
    }
    /* The JSON report of mn_health (its "status": "ok", "degraded" or "failing"). */
    result<std::string> try_health(unsigned flags = 0) const {
        return text([&](char **o) { return mn_health(handle(), flags, o, nullptr); });
    }

#if MANUSHYA_CXX_EXCEPTIONS
    /* ---- the throwing forms: try_x(...).value() ---- */
    explicit db(std::string_view url, const mn_config *cfg = nullptr) : db(try_open(url, cfg).value()) {}
    tenant tenant_create(std::string_view name) const { return try_tenant_create(name).value(); }
    tenant tenant_get(std::string_view id) const { return try_tenant_get(id).value(); }
    tenants tenant_list() const { return try_tenant_list().value(); }
    void tenant_delete(std::string_view id) const { try_tenant_delete(id).value(); }
    identity identity_create(const actor &a, std::string_view external_id, std::string_view role = "agent",
                             std::string_view claims = "{}") const {
        return try_identity_create(a, external_id, role, claims).value();
    }
    identity identity_get(const actor &a, std::string_view id) const { return try_identity_get(a, id).value(); }
    identities identity_list(const actor &a) const { return try_identity_list(a).value(); }
    void identity_deactivate(const actor &a, std::string_view id) const { try_identity_deactivate(a, id).value(); }
    void identity_delete(const actor &a, std::string_view id) const { try_identity_delete(a, id).value(); }
    memory add(const actor &a, const memory_input &in) const { return try_add(a, in).value(); }
    std::vector<std::string> add_many(const actor &a, const std::vector<memory_input> &in) const {
        return try_add_many(a, in).value();
    }
    put_result put(const actor &a, const memory_input &in) const { return try_put(a, in).value(); }
    std::vector<std::string> put_many(const actor &a, const std::vector<memory_input> &in,
                                      std::vector<int> &outcomes) const {
        return try_put_many(a, in, outcomes).value();
    }
    memory get(const actor &a, std::string_view id, unsigned flags = 0) const { return try_get(a, id, flags).value(); }
    memories list(const actor &a, const list_options &opt = list_options()) const { return try_list(a, opt).value(); }
    memories search(const actor &a, const search_options &opt) const { return try_search(a, opt).value(); }
    size_t count(const actor &a, const filter &f = filter()) const { return try_count(a, f).value(); }
    size_t remove_where(const actor &a, const filter &f, int mode = MN_DELETE_SOFT) const { return try_remove_where(a, f, mode).value(); }
    size_t trim(const actor &a, const filter &f, size_t keep, int mode = MN_DELETE_SOFT) const { return try_trim(a, f, keep, mode).value(); }
    std::vector<memories> search_many(const actor &a, const std::vector<search_options> &opts) const { return try_search_many(a, opts).value(); }
    memory_range each(const actor &a, const list_options &opt = list_options()) const {
        return pages(&db::try_list, a, opt, true);
    }
    memory_range search_each(const actor &a, const search_options &opt) const {
        return pages(&db::try_search, a, opt, true);
    }
    memory update(const actor &a, std::string_view id, const memory_changes &ch) const {
        return try_update(a, id, ch).value();
    }
    void remove(const actor &a, std::string_view id, int mode = MN_DELETE_SOFT) const { try_remove(a, id, mode).value(); }
    void remove_many(const actor &a, const std::vector<std::string> &ids, int mode = MN_DELETE_SOFT) const {
        try_remove_many(a, ids, mode).value();
    }
    void restore(const actor &a, std::string_view id) const { try_restore(a, id).value(); }
    history memory_history(const actor &a, std::string_view id) const { return try_memory_history(a, id).value(); }
    policy policy_add(const actor &a, const policy_input &in) const { return try_policy_add(a, in).value(); }
    policy policy_get(const actor &a, std::string_view id) const { return try_policy_get(a, id).value(); }
    policies policy_list(const actor &a) const { return try_policy_list(a).value(); }
    policy policy_update(const actor &a, std::string_view id, const policy_changes &ch) const {
        return try_policy_update(a, id, ch).value();
    }
    void policy_delete(const actor &a, std::string_view id) const { try_policy_delete(a, id).value(); }
    decision policy_test(const actor &a, std::string_view action, std::string_view resource,
                         std::string_view resource_data = "{}") const {
        return try_policy_test(a, action, resource, resource_data).value();
    }
    new_apikey apikey_create(const actor &a, const apikey_input &in) const { return try_apikey_create(a, in).value(); }
    apikeys apikey_list(const actor &a, std::string_view owner = {}) const { return try_apikey_list(a, owner).value(); }
    void apikey_revoke(const actor &a, std::string_view id) const { try_apikey_revoke(a, id).value(); }
    apikey apikey_verify(std::string_view key) const { return try_apikey_verify(key).value(); }
    mn_ratelimit_result ratelimit_peek(const actor &a, std::string_view endpoint, int64_t n = 1) const {
        return try_ratelimit_peek(a, endpoint, n).value();
    }
    mn_ratelimit_result ratelimit_hit(const actor &a, std::string_view endpoint, int64_t n = 1) const {
        return try_ratelimit_hit(a, endpoint, n).value();
    }
    limits limit_list(const actor &a) const { return try_limit_list(a).value(); }
    void limit_set(const actor &a, std::string_view endpoint, int64_t calls, int64_t window_ms) const {
        try_limit_set(a, endpoint, calls, window_ms).value();
    }
    std::string metrics(int format = MN_METRICS_PROMETHEUS) const { return try_metrics(format).value(); }
    std::string health(unsigned flags = 0) const { return try_health(flags).value(); }
#endif

private:
    explicit db(mn_db *h) : h_(h) {}

    /* The calling thread's last failure on this handle, as mn_errmsg tells it. */
    failure fail(int rc) const {
        return failure{static_cast<errc>(rc), mn_errmsg(handle()), mn_retry_after_ms(handle())};
    }
    /* Refuses arguments with a problem (MN_EINVAL, nothing called), else makes the call. */
    template <class F, class... A> result<void> check(F &&call, const A &...args) const {
        if (auto p = detail::first_problem(args...))
            return failure{errc::invalid, *p, 0};
        int rc = call();
        if (rc != MN_OK)
            return fail(rc);
        return {};
    }
    /* The same for a call that gives a result through its last argument: T owns it. */
    template <class T, class F, class... A> result<T> run(F &&call, const A &...args) const {
        T value;
        result<void> r = check([&] {
            typename T::c_type *out = nullptr;
            int rc = call(&out);
            value = T(out);
            return rc;
        }, args...);
        if (!r.ok())
            return r.error();
        return result<T>(std::move(value));
    }
    /* A call that writes a string the caller frees with mn_free. */
    template <class F> result<std::string> text(F &&call) const {
        char *s = nullptr;
        result<void> r = check([&] { return call(&s); });
        detail::owned<void, mn_free> own(s);
        if (!r.ok())
            return r.error();
        return std::string(s ? s : "");
    }
    /* add_many, and put_many when outcomes is given. */
    result<std::vector<std::string>> many(const actor &a, const std::vector<memory_input> &in,
                                          std::vector<int> *outcomes) const {
        std::vector<mn_memory_input> c;
        for (const auto &i : in) {
            if (auto p = i.problem())
                return failure{errc::invalid, "input " + std::to_string(c.size()) + ": " + *p, 0};
            c.push_back(i.c().get());
        }
        char **ids = nullptr;
        result<void> r = check([&] {
            return outcomes ? mn_memory_put_many(handle(), a.c(), c.data(), c.size(), &ids, outcomes->data(), nullptr)
                            : mn_memory_add_many(handle(), a.c(), c.data(), c.size(), &ids, nullptr);
        }, a);
        if (!r.ok())
            return r.error();
        std::vector<std::string> out(ids, ids + c.size());
        mn_strings_free(ids, c.size());
        return result<std::vector<std::string>>(std::move(out));
    }
    template <class F>
    result<mn_ratelimit_result> ratelimit(const actor &a, std::string_view endpoint, int64_t n, F *fn) const {
        detail::zstr e(endpoint, "the endpoint");
        mn_ratelimit_result out = detail::init<mn_ratelimit_result>(MN_RATELIMIT_RESULT_VERSION);
        result<void> r = check([&] { return fn(handle(), a.c(), e, n, &out); }, a, e);
        if (!r.ok())
            return r.error();
        return out;
    }
    /* A range over the pages of call (try_list or try_search) with copies of a and opt; it
     * calls this db, which must outlive it and stay where it is. */
    template <class O>
    memory_range pages(result<memories> (db::*call)(const actor &, const O &) const, const actor &a,
                       const O &opt, bool throws) const {
        return memory_range([this, call, who = actor(a), o = O(opt)](const char *cursor) mutable {
            return (this->*call)(who, cursor ? o.cursor(cursor) : o);
        }, throws);
    }

    detail::owned<mn_db, mn_close> h_;
};

} // namespace manushya

#endif /* MANUSHYA_HPP */
