"""Lua scripts for the tutor queues: every nudge transition is one atomic script.

Redis runs a script to completion before any other command, so two tutors claiming one
nudge are serialised and exactly one sees ``ok``; a repeated call sees ``noop``. Every
script returns ``{status, nudge_id, state, tutor}`` with status one of ok, noop, created,
merged, duplicate, not_found, forbidden, conflict, retired (an alert about a retired learner).

Key layout under a prefix P (default ``facilitation:``), one Redis (not Cluster: keys are
derived inside the scripts):
  P nudge:<id>        hash of the nudge           P queue:<tutor>   zset id -> rank/due score
  P alert:<alert_id>  id of the nudge holding it  P merge:<course|learner>  open nudge id
  P hist:<id>         list of JSON transitions    P tutors          set of tutors with queues
  P unclaimed         zset id -> enqueue time     P snoozed         zset id -> until
  P affinity:<key>    tutor who last had a thread/learner
  P assigned:<tutor>  zset id -> assignment time (the last week's)
  P rr:<course>:<rule>  round-robin cursor
  P nudges:<course|learner>  set of the learner's nudge ids (for retirement)
  P retired:<sha1(course|learner)>  the learner was retired: no nudge about them again
  P feedback:not_useful  hash rule -> count
"""

from __future__ import annotations

_PRELUDE = r"""
local P = ARGV[1]
local function nkey(id) return P .. 'nudge:' .. id end
local function qkey(t) return P .. 'queue:' .. t end
local function hist(id, at, by, action, from, to, note)
  redis.call('RPUSH', P .. 'hist:' .. id, cjson.encode({
    at = at, by = by, action = action, from = from or '', to = to or '', note = note or ''}))
end
local function reply(status, id, n)
  if n == nil then return {status, id, '', ''} end
  local f = redis.call('HMGET', n, 'state', 'tutor')
  return {status, id, f[1] or '', f[2] or ''}
end
local function is_open(state)
  return state == 'new' or state == 'claimed' or state == 'snoozed' or state == 'escalated'
end
local function move(id, n, from, to)
  if from == to then return end
  local score = redis.call('HGET', n, 'score')
  redis.call('ZREM', qkey(from), id)
  redis.call('ZADD', qkey(to), score, id)
  redis.call('SADD', P .. 'tutors', to)
  redis.call('HSET', n, 'tutor', to)
end
local function set_affinity(n, tutor)
  local keys = cjson.decode(redis.call('HGET', n, 'affinity_keys') or '[]')
  for _, k in ipairs(keys) do redis.call('SET', P .. 'affinity:' .. k, tutor) end
end
local function close(id, n, state, resolution, by, at, retention)
  local tutor = redis.call('HGET', n, 'tutor')
  local prev = redis.call('HGET', n, 'state')
  redis.call('HSET', n, 'state', state, 'resolution', resolution, 'updated_at', at)
  redis.call('ZREM', qkey(tutor), id)
  redis.call('ZREM', P .. 'unclaimed', id)
  redis.call('ZREM', P .. 'snoozed', id)
  local mk = P .. 'merge:' .. redis.call('HGET', n, 'merge_key')
  if redis.call('GET', mk) == id then redis.call('DEL', mk) end
  hist(id, at, by, state, prev, state, resolution)
  local ttl = tonumber(retention)
  if ttl and ttl > 0 then
    redis.call('EXPIRE', n, ttl)
    redis.call('EXPIRE', P .. 'hist:' .. id, ttl)
    for _, item in ipairs(cjson.decode(redis.call('HGET', n, 'items'))) do
      redis.call('EXPIRE', P .. 'alert:' .. item.alert_id, ttl)
    end
  end
end
local function guard(id, n, actor, require_owner)
  local state = redis.call('HGET', n, 'state')
  if not state then return reply('not_found', id, nil) end
  if require_owner == '1' and redis.call('HGET', n, 'tutor') ~= actor then
    return reply('forbidden', id, n)
  end
  return nil
end
"""

# ARGV: P, alert_id, nudge_id, merge_key, tutor, fields_json, item_json, rank, score,
#       now_iso, now_ts, actor, affinity_keys_json, severity, why, reroute_from,
#       assigned_since, round_robin
# The router's whole write is this one script: the nudge, a reroute of the open nudge it
# merges into (when that one's holder is still ``reroute_from`` and nobody claimed it),
# the "assigned lately" record of the chosen tutor and the round-robin cursor it used.
ENQUEUE = (
    _PRELUDE
    + r"""
local alert_id, id, mkey, tutor = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, now_ts, actor = ARGV[10], ARGV[11], ARGV[12]
local reroute_from, assigned_since, rr = ARGV[16] or '', ARGV[17] or '', ARGV[18] or ''
local existing = redis.call('GET', P .. 'alert:' .. alert_id)
if existing then return reply('duplicate', existing, nkey(existing)) end
local learner = string.gsub(mkey, '|lead$', '')
if redis.call('EXISTS', P .. 'retired:' .. redis.sha1hex(learner)) == 1 then
  return reply('retired', '', nil)
end
if rr ~= '' then redis.call('INCR', P .. 'rr:' .. rr) end
local open = redis.call('GET', P .. 'merge:' .. mkey)
if open and is_open(redis.call('HGET', nkey(open), 'state')) then
  local n = nkey(open)
  local items = cjson.decode(redis.call('HGET', n, 'items'))
  table.insert(items, cjson.decode(ARGV[7]))
  local reasons, seen = {}, {}
  for _, item in ipairs(items) do
    if item.open then
      for _, r in ipairs(item.reasons) do
        if not seen[r] then seen[r] = true; table.insert(reasons, r) end
      end
    end
  end
  redis.call('HSET', n, 'items', cjson.encode(items), 'reasons', cjson.encode(reasons),
             'updated_at', now)
  local aff = cjson.decode(redis.call('HGET', n, 'affinity_keys') or '[]')
  for _, k in ipairs(cjson.decode(ARGV[13])) do
    local dup = false
    for _, have in ipairs(aff) do if have == k then dup = true end end
    if not dup then table.insert(aff, k) end
  end
  redis.call('HSET', n, 'affinity_keys', cjson.encode(aff))
  if tonumber(ARGV[8]) < tonumber(redis.call('HGET', n, 'rank')) then
    -- A more severe alert lifts the whole nudge up the queue.
    local due = tonumber(redis.call('HGET', n, 'due_ts'))
    local score = tonumber(ARGV[8]) * 10000000000 + due
    redis.call('HSET', n, 'rank', ARGV[8], 'severity', ARGV[14], 'score', score)
    redis.call('ZADD', qkey(redis.call('HGET', n, 'tutor')), score, open)
  end
  redis.call('SET', P .. 'alert:' .. alert_id, open)
  hist(open, now, actor, 'merged', '', '', alert_id)
  local holder = redis.call('HGET', n, 'tutor')
  if reroute_from ~= '' and holder == reroute_from and holder ~= tutor
     and redis.call('HGET', n, 'state') == 'new' then
    -- The learner's open nudge sits with an off-shift tutor; this alert cannot wait.
    move(open, n, holder, tutor)
    redis.call('ZADD', P .. 'unclaimed', now_ts, open)
    set_affinity(n, tutor)
    hist(open, now, actor, 'rerouted', holder, tutor, 'new')
  end
  return reply('merged', open, n)
end
local n = nkey(id)
local fields = cjson.decode(ARGV[6])
for k, v in pairs(fields) do redis.call('HSET', n, k, v) end
redis.call('HSET', n, 'items', '[' .. ARGV[7] .. ']', 'affinity_keys', ARGV[13],
           'tutor', tutor, 'state', 'new', 'rank', ARGV[8], 'score', ARGV[9])
redis.call('ZADD', qkey(tutor), ARGV[9], id)
redis.call('ZADD', P .. 'unclaimed', now_ts, id)
redis.call('SADD', P .. 'tutors', tutor)
redis.call('SET', P .. 'alert:' .. alert_id, id)
redis.call('SET', P .. 'merge:' .. mkey, id)
redis.call('SADD', P .. 'nudges:' .. learner, id)
set_affinity(n, tutor)
hist(id, now, actor, 'created', '', 'new', tutor .. ': ' .. ARGV[15])
if assigned_since ~= '' then
  redis.call('ZADD', P .. 'assigned:' .. tutor, now_ts, id)
  redis.call('ZREMRANGEBYSCORE', P .. 'assigned:' .. tutor, '-inf', assigned_since)
end
return reply('created', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner
CLAIM = (
    _PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
local state = redis.call('HGET', n, 'state')
if state == 'claimed' then
  if redis.call('HGET', n, 'claimed_by') == actor then return reply('noop', id, n) end
  return reply('conflict', id, n)
end
if denied then return denied end
if not is_open(state) then return reply('conflict', id, n) end
move(id, n, redis.call('HGET', n, 'tutor'), actor)
redis.call('HSET', n, 'state', 'claimed', 'claimed_by', actor, 'snoozed_until', '',
           'updated_at', now)
redis.call('ZREM', P .. 'unclaimed', id)
redis.call('ZREM', P .. 'snoozed', id)
set_affinity(n, actor)
hist(id, now, actor, 'claimed', state, 'claimed', '')
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, final_state, resolution, retention_s
RESOLVE = (
    _PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local state = redis.call('HGET', n, 'state')
if state and not is_open(state) then return reply('noop', id, n) end
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
close(id, n, ARGV[7], ARGV[8], actor, now, ARGV[9])
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, retention_s, note
NOT_USEFUL = (
    _PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
if redis.call('HGET', n, 'not_useful') == '1' then return reply('noop', id, n) end
redis.call('HSET', n, 'not_useful', '1')
local counted = {}
for _, item in ipairs(cjson.decode(redis.call('HGET', n, 'items'))) do
  if not counted[item.rule] then
    counted[item.rule] = true
    redis.call('HINCRBY', P .. 'feedback:not_useful', item.rule, 1)
  end
end
hist(id, now, actor, 'not-useful', '', '', ARGV[8])
if is_open(redis.call('HGET', n, 'state')) then
  close(id, n, 'resolved', 'not-useful', actor, now, ARGV[7])
end
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, until_iso, until_ts
SNOOZE = (
    _PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
local state = redis.call('HGET', n, 'state')
if not is_open(state) then return reply('conflict', id, n) end
if state == 'snoozed' and redis.call('HGET', n, 'snoozed_until') == ARGV[7] then
  return reply('noop', id, n)
end
local score = tonumber(redis.call('HGET', n, 'rank')) * 10000000000 + tonumber(ARGV[8])
redis.call('HSET', n, 'state', 'snoozed', 'snoozed_until', ARGV[7], 'score', score,
           'updated_at', now)
redis.call('ZADD', qkey(redis.call('HGET', n, 'tutor')), score, id)
redis.call('ZADD', P .. 'snoozed', ARGV[8], id)
redis.call('ZREM', P .. 'unclaimed', id)
hist(id, now, actor, 'snoozed', state, 'snoozed', ARGV[7])
return reply('ok', id, n)
"""
)

# ARGV: P, now_iso, now_ts  -> list of woken ids
WAKE = (
    _PRELUDE
    + r"""
local now, now_ts = ARGV[2], ARGV[3]
local woken = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'snoozed', '-inf', now_ts)) do
  local n = nkey(id)
  redis.call('ZREM', P .. 'snoozed', id)
  if redis.call('HGET', n, 'state') == 'snoozed' then
    local to = 'new'
    if (redis.call('HGET', n, 'claimed_by') or '') ~= '' then to = 'claimed' end
    local score = tonumber(redis.call('HGET', n, 'rank')) * 10000000000
                  + tonumber(redis.call('HGET', n, 'due_ts'))
    redis.call('HSET', n, 'state', to, 'snoozed_until', '', 'score', score, 'updated_at', now)
    redis.call('ZADD', qkey(redis.call('HGET', n, 'tutor')), score, id)
    if to == 'new' then redis.call('ZADD', P .. 'unclaimed', now_ts, id) end
    hist(id, now, 'system', 'woke', 'snoozed', to, '')
    table.insert(woken, id)
  end
end
return woken
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, to_tutor, action
REASSIGN = (
    _PRELUDE
    + r"""
local id, actor, now, to = ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
local state = redis.call('HGET', n, 'state')
if not is_open(state) then return reply('conflict', id, n) end
local from = redis.call('HGET', n, 'tutor')
if from == to then return reply('noop', id, n) end
move(id, n, from, to)
local score = tonumber(redis.call('HGET', n, 'rank')) * 10000000000
              + tonumber(redis.call('HGET', n, 'due_ts'))
redis.call('HSET', n, 'state', 'new', 'claimed_by', '', 'snoozed_until', '', 'score', score,
           'updated_at', now)
redis.call('ZADD', qkey(to), score, id)
redis.call('ZREM', P .. 'snoozed', id)
redis.call('ZADD', P .. 'unclaimed', ARGV[5], id)
set_affinity(n, to)
hist(id, now, actor, ARGV[8], from, to, state)
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, lead. Only a still-unclaimed ("new") nudge escalates,
# and only once: the lead's queue is the end of the line.
ESCALATE = (
    _PRELUDE
    + r"""
local id, actor, now, lead = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local n = nkey(id)
local state = redis.call('HGET', n, 'state')
if not state then return reply('not_found', id, nil) end
redis.call('ZREM', P .. 'unclaimed', id)
if state ~= 'new' then return reply('noop', id, n) end
local from = redis.call('HGET', n, 'tutor')
move(id, n, from, lead)
redis.call('HSET', n, 'state', 'escalated', 'escalated_from', from, 'updated_at', now)
hist(id, now, actor, 'escalated', from, lead, '')
return reply('ok', id, n)
"""
)

# ARGV: P, alert_id, actor, now_iso, retention_s. The alert's condition cleared: close its
# item; when no item is left open the nudge auto-resolves.
ALERT_RESOLVED = (
    _PRELUDE
    + r"""
local alert_id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local id = redis.call('GET', P .. 'alert:' .. alert_id)
if not id then return reply('not_found', '', nil) end
local n = nkey(id)
local state = redis.call('HGET', n, 'state')
if not state then return reply('not_found', id, nil) end
if not is_open(state) then return reply('noop', id, n) end
local items = cjson.decode(redis.call('HGET', n, 'items'))
local changed, still_open = false, 0
local reasons, seen = {}, {}
for _, item in ipairs(items) do
  if item.alert_id == alert_id and item.open then item.open = false; changed = true end
  if item.open then
    still_open = still_open + 1
    for _, r in ipairs(item.reasons) do
      if not seen[r] then seen[r] = true; table.insert(reasons, r) end
    end
  end
end
if not changed then return reply('noop', id, n) end
redis.call('HSET', n, 'items', cjson.encode(items), 'updated_at', now)
if still_open == 0 then
  close(id, n, 'auto-resolved', 'condition cleared', actor, now, ARGV[5])
else
  redis.call('HSET', n, 'reasons', cjson.encode(reasons))
  hist(id, now, actor, 'item-cleared', '', '', alert_id)
end
return reply('ok', id, n)
"""
)

# ARGV: P, merge_key (course|learner), actor, now_iso, retention_s. The LMS retired the
# learner: every nudge about them (open or closed, their own and the lead's escalations) is
# scrubbed of what names or quotes them, the open ones closed, and a marker (a digest, not
# the id) makes ENQUEUE drop any later alert about them.
REDACT = (
    _PRELUDE
    + r"""
local base, actor, now = ARGV[2], ARGV[3], ARGV[4]
local keep = {nudge_id = true, course_id = true, state = true, tutor = true, severity = true,
              rank = true, score = true, due_at = true, due_ts = true, created_at = true,
              updated_at = true, claimed_by = true, snoozed_until = true, resolution = true,
              escalated_from = true, not_useful = true, items = true, reasons = true}
redis.call('SET', P .. 'retired:' .. redis.sha1hex(base), '1')
redis.call('DEL', P .. 'affinity:' .. string.gsub(base, '|', '|learner|', 1))
local ids = redis.call('SMEMBERS', P .. 'nudges:' .. base)
for _, mkey in ipairs({base, base .. '|lead'}) do  -- nudges from before the index existed
  local open = redis.call('GET', P .. 'merge:' .. mkey)
  if open then table.insert(ids, open) end
end
local last, status = '', 'noop'
for _, id in ipairs(ids) do
  local n = nkey(id)
  local state = redis.call('HGET', n, 'state')
  if state and redis.call('HGET', n, 'resolution') ~= 'learner retired' then
    if is_open(state) then close(id, n, 'resolved', 'learner retired', actor, now, ARGV[5])
    else redis.call('HSET', n, 'resolution', 'learner retired') end
    local items = {}
    for _, item in ipairs(cjson.decode(redis.call('HGET', n, 'items') or '[]')) do
      table.insert(items, {alert_id = item.alert_id, rule = item.rule, kind = item.kind,
                           subject_type = item.subject_type, fired_at = item.fired_at,
                           reasons = {'the learner was retired'}, open = false})
    end
    for _, field in ipairs(redis.call('HKEYS', n)) do
      if not keep[field] then redis.call('HDEL', n, field) end
    end
    redis.call('HSET', n, 'items', cjson.encode(items),
               'reasons', cjson.encode({'the learner was retired'}))
    last, status = id, 'ok'
  end
end
redis.call('DEL', P .. 'nudges:' .. base)
if status == 'ok' then return reply(status, last, nkey(last)) end
return reply(status, last, nil)
"""
)
