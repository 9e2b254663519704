"""The wrk scripts of the load harness, one per (case, target): each
request() builds the next request, so lookups, reads and import pages
spread over all users, creates never repeat a userName and deactivations alternate
suspend / unsuspend user by user (every one is a real change)."""

import zlib

TOKEN = "load-bench-token"

SCIM_USER = (
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],'
    '"userName":"%s@example.com","externalId":"%s",'
    '"name":{"givenName":"New","familyName":"User"},'
    '"emails":[{"primary":true,"value":"%s@example.com","type":"work"}],'
    '"title":"Engineer","active":true}'
)
# What Okta sends for a new user of the Okta-shaped mapping (`--shape okta`).
SCIM_USER_OKTA = (
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],'
    '"userName":"%s@example.com","externalId":"%s",'
    '"name":{"givenName":"New","familyName":"User"},"displayName":"New User",'
    '"emails":[{"primary":true,"value":"%s@example.com","type":"work"}],'
    '"active":true}'
)
APP_USER = (
    '{"login":"%s@example.com","external_id":"%s","first":"New","last":"User",'
    '"email":"%s@example.com","title":"Engineer","state":"ACTIVE"}'
)
PATCH = (
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
    '"Operations":[{"op":"replace","value":{"active":%s}}]}'
)

_PRELUDE = """
local n = %(users)d
local i = 0
local auth = { ["Authorization"] = "Bearer %(token)s",
               ["Content-Type"] = "application/scim+json",
               ["Accept"] = "application/scim+json" }
local plain = { ["Content-Type"] = "application/json" }
"""


def _lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script(case, target, users, tag, shape="bench"):
    """The Lua text for a SCIM case against `target` ("scim" or "direct"),
    for the mapping `shape` ("bench" or "okta": which user a create sends)."""
    head = _PRELUDE % {"users": users, "token": TOKEN}
    scim = target == "scim"
    if case == "lookup":
        path = (
            '"/scim/v2/Users?filter=userName%20eq%20%22user" .. k .. "%40example.com%22"'
            if scim
            else '"/api/users?login=user" .. k .. "%40example.com"'
        )
        body = "local k = math.random(1, n)\nreturn wrk.format('GET', %s, %s)" % (
            path,
            "auth" if scim else "plain",
        )
    elif case == "get":
        path = '"/scim/v2/Users/" .. k' if scim else '"/api/users/" .. k'
        body = "local k = math.random(1, n)\nreturn wrk.format('GET', %s, %s)" % (
            path,
            "auth" if scim else "plain",
        )
    elif case == "page":
        # An import page: 100 users from a random place (RFC 7644 §3.4.2.4).
        path = (
            '"/scim/v2/Users?startIndex=" .. k .. "&count=100"'
            if scim
            else '"/api/users?offset=" .. (k - 1) .. "&limit=100"'
        )
        body = "local k = math.random(1, n - 99)\nreturn wrk.format('GET', %s, %s)" % (
            path,
            "auth" if scim else "plain",
        )
    elif case == "create":
        tmpl = (SCIM_USER_OKTA if shape == "okta" else SCIM_USER) if scim else APP_USER
        lua_tmpl = _lua_string(tmpl)
        name = '"%s-" .. i' % tag
        body = (
            "i = i + 1\nlocal u = %s\n"
            "return wrk.format('POST', %s, %s, string.format(%s, u, u, u))"
            % (name, '"/scim/v2/Users"' if scim else '"/api/users"',
               "auth" if scim else "plain", lua_tmpl)
        )
    elif case == "deactivate":
        if scim:
            body = (
                "local k = i %% n + 1\nlocal on = math.floor(i / n) %% 2 == 1\ni = i + 1\n"
                "local v = on and 'true' or 'false'\n"
                "return wrk.format('PATCH', '/scim/v2/Users/' .. k, auth, string.format(%s, v))"
                % _lua_string(PATCH)
            )
        else:
            body = (
                "local k = i % n + 1\nlocal on = math.floor(i / n) % 2 == 1\ni = i + 1\n"
                "local a = on and '/unsuspend' or '/suspend'\n"
                "return wrk.format('POST', '/api/users/' .. k .. a, plain)"
            )
    else:
        raise ValueError(case)
    return head + "math.randomseed(%d)\nrequest = function()\n%s\nend\n" % (
        zlib.crc32(tag.encode()) % 100000,
        body,
    )


UPLOAD = 'wrk.method = "POST"\nwrk.body = string.rep("x", 1024)\n' \
    'wrk.headers["Content-Type"] = "application/octet-stream"\n'
