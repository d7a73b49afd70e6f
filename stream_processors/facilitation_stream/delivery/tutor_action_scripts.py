"""Lua scripts of what tutors do to a nudge: claim, resolve, not useful, snooze, reassign,
undo. Each is one atomic script on the prelude and key layout of ``queue_scripts``."""

from __future__ import annotations

from facilitation_stream.delivery.queue_scripts import PRELUDE

# ARGV: P, id, actor, now_iso, now_ts, require_owner
CLAIM = (
    PRELUDE
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

# ARGV: P, id, actor, now_iso, now_ts, require_owner, final_state, resolution, retention_s,
#       undo_s (keep an undo this long; 0: none)
RESOLVE = (
    PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local state = redis.call('HGET', n, 'state')
if state and not is_open(state) then return reply('noop', id, n) end
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
snapshot(id, n, 'resolve', actor, ARGV[10])
close(id, n, ARGV[7], ARGV[8], actor, now, ARGV[9])
seal(id)
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, retention_s, note, undo_s
NOT_USEFUL = (
    PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
if redis.call('HGET', n, 'not_useful') == '1' then return reply('noop', id, n) end
snapshot(id, n, 'not-useful', actor, ARGV[9])
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
seal(id)
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, until_iso, until_ts
SNOOZE = (
    PRELUDE
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

# ARGV: P, id, actor, now_iso, now_ts, require_owner, to_tutor, action, undo_s
REASSIGN = (
    PRELUDE
    + r"""
local id, actor, now, to = ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local n = nkey(id)
local denied = guard(id, n, actor, ARGV[6])
if denied then return denied end
local state = redis.call('HGET', n, 'state')
if not is_open(state) then return reply('conflict', id, n) end
local from = redis.call('HGET', n, 'tutor')
if from == to then return reply('noop', id, n) end
snapshot(id, n, 'reassign', actor, ARGV[9])
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
seal(id)
return reply('ok', id, n)
"""
)

# ARGV: P, id, actor, now_iso, now_ts, require_owner, action. Puts back what the last
# resolve / not-useful / reassign changed, if it is still the last thing that happened to
# the nudge (else conflict: a claim, a merged alert or a new nudge for the learner came in
# between) and its undo has not expired (status expired). require_owner: only its actor.
UNDO = (
    PRELUDE
    + r"""
local id, actor, now = ARGV[2], ARGV[3], ARGV[4]
local n, k = nkey(id), P .. 'undo:' .. id
if redis.call('EXISTS', n) == 0 then return reply('not_found', id, nil) end
local flat = redis.call('HGETALL', k)
if #flat == 0 then return reply('expired', id, n) end
local u = {}
for i = 1, #flat, 2 do u[flat[i]] = flat[i + 1] end
if ARGV[6] == '1' and u.by ~= actor then return reply('forbidden', id, n) end
if (ARGV[7] ~= '' and u.action ~= ARGV[7])
   or tonumber(u.hist_len) ~= redis.call('LLEN', P .. 'hist:' .. id) then
  return reply('conflict', id, n)
end
local mk = P .. 'merge:' .. redis.call('HGET', n, 'merge_key')
local holder = redis.call('GET', mk)
if u.merge == '1' and holder and holder ~= id then return reply('conflict', id, n) end
local state, tutor = redis.call('HGET', n, 'state'), redis.call('HGET', n, 'tutor')
if u.not_useful ~= '1' and redis.call('HGET', n, 'not_useful') == '1' then
  local counted = {}
  for _, item in ipairs(cjson.decode(redis.call('HGET', n, 'items'))) do
    if not counted[item.rule] then
      counted[item.rule] = true
      redis.call('HINCRBY', P .. 'feedback:not_useful', item.rule, -1)
    end
  end
end
for _, f in ipairs(SNAP) do redis.call('HSET', n, f, u[f]) end
redis.call('HSET', n, 'updated_at', now)
redis.call('PERSIST', n)
redis.call('PERSIST', P .. 'hist:' .. id)
for _, item in ipairs(cjson.decode(redis.call('HGET', n, 'items'))) do
  redis.call('PERSIST', P .. 'alert:' .. item.alert_id)
end
redis.call('ZREM', qkey(tutor), id)
if is_open(u.state) then
  redis.call('ZADD', qkey(u.tutor), u.score, id)
  redis.call('SADD', P .. 'tutors', u.tutor)
end
for _, set in ipairs({'unclaimed', 'snoozed'}) do
  redis.call('ZREM', P .. set, id)
  if u[set] ~= '' then redis.call('ZADD', P .. set, u[set], id) end
end
if u.merge == '1' then redis.call('SET', mk, id) end
if u.action == 'reassign' then set_affinity(n, u.tutor) end
hist(id, now, actor, 'undone', state, u.state, u.action)
redis.call('DEL', k)
return reply('ok', id, n)
"""
)
