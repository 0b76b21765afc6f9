-- Scratch buffers of heapd.nvim: stats, inspect, referrers, events, call
-- results. Everything here runs on the main loop (rpc.lua schedules every
-- libuv callback), so buffers may be touched directly.
local json = require('heapd.json')

local M = {}

-- bufnr -> view table ({kind = ..., ...})
M.views = {}

local function heapd()
  return require('heapd')
end

local function is_null(v)
  return v == nil or v == vim.NIL
end

local function fmt_id(id)
  return '#' .. tostring(id)
end

-- Buffers -----------------------------------------------------------------

local function find_buf(name)
  for buf, view in pairs(M.views) do
    if vim.api.nvim_buf_is_valid(buf) and view.name == name then
      return buf, view
    end
  end
  return nil
end

local function close_window_or_buffer()
  if #vim.api.nvim_list_wins() > 1 then
    vim.cmd('close')
  else
    vim.cmd('enew')
  end
end

-- A function map(lhs, fn, desc) that sets a normal-mode mapping local to buf.
local function buf_mapper(buf)
  return function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
end

local function create_buf(name, kind)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name)
  vim.api.nvim_buf_set_option(buf, 'buftype', 'nofile')
  vim.api.nvim_buf_set_option(buf, 'bufhidden', 'hide')
  vim.api.nvim_buf_set_option(buf, 'swapfile', false)
  vim.api.nvim_buf_set_option(buf, 'modifiable', false)
  vim.api.nvim_buf_set_option(buf, 'filetype', 'heapd')
  local view = { kind = kind, name = name, buf = buf }
  M.views[buf] = view
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    callback = function()
      M.views[buf] = nil
    end,
  })
  local map = buf_mapper(buf)
  map('q', close_window_or_buffer, 'heapd: close')
  map('R', function()
    M.refresh(buf)
  end, 'heapd: refresh')
  return buf, view
end

-- Show buf: focus a window that shows it, else open one.
local function show(buf)
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
    return
  end
  local cur = vim.api.nvim_get_current_buf()
  local is_empty = vim.api.nvim_buf_get_name(cur) == ''
    and not vim.api.nvim_buf_get_option(cur, 'modified')
    and vim.api.nvim_buf_line_count(cur) == 1
    and vim.api.nvim_buf_get_lines(cur, 0, 1, false)[1] == ''
  if not is_empty then
    -- E36 (not enough room) on a small screen: fall back to a plain split,
    -- else use the current window.
    if not pcall(vim.cmd, heapd().config.split) then
      pcall(vim.cmd, 'split')
    end
  end
  vim.api.nvim_win_set_buf(0, buf)
end
M.show = show

local function get_view(name, kind)
  local buf, view = find_buf(name)
  if not buf then
    buf, view = create_buf(name, kind)
  end
  return buf, view
end

local function set_lines(buf, lines)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  -- nvim_buf_set_lines refuses strings with newlines.
  local clean = {}
  for _, l in ipairs(lines) do
    for piece in (tostring(l) .. '\n'):gmatch('(.-)\n') do
      clean[#clean + 1] = piece
    end
  end
  vim.api.nvim_buf_set_option(buf, 'modifiable', true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, clean)
  vim.api.nvim_buf_set_option(buf, 'modifiable', false)
  vim.api.nvim_buf_set_option(buf, 'modified', false)
end
M.set_lines = set_lines

-- The lines of a buffer (for tests and :HeapCall users).
function M.lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

function M.buffer(kind)
  for buf, view in pairs(M.views) do
    if view.kind == kind and vim.api.nvim_buf_is_valid(buf) then
      return buf, view
    end
  end
  return nil
end

local function header(title)
  local st = heapd().state
  local conn = st.socket and ('socket ' .. st.socket) or 'not connected'
  if not heapd().is_connected() then
    conn = conn .. ' (disconnected)'
  end
  local session = st.session and ('session ' .. st.session) or 'anonymous session'
  return { title, conn .. ', ' .. session }
end

local function pad(s, n)
  s = tostring(s)
  if #s >= n then
    return s .. ' '
  end
  return s .. string.rep(' ', n - #s)
end

local function lpad(s, n)
  s = tostring(s)
  if #s >= n then
    return ' ' .. s
  end
  return string.rep(' ', n - #s) .. s
end

local function short_json(v, limit)
  local ok, s = pcall(json.encode, v)
  if not ok then
    s = vim.inspect(v)
  end
  limit = limit or 200
  if #s > limit then
    s = s:sub(1, limit) .. '…'
  end
  return s
end

-- Ask `get` for many ids at once (one batch); callback(map id -> get result
-- or {error = err}).
local function fetch_objects(ids, callback)
  local uniq, seen = {}, {}
  for _, id in ipairs(ids) do
    if not seen[id] and #uniq < 500 then
      seen[id] = true
      uniq[#uniq + 1] = id
    end
  end
  if #uniq == 0 then
    callback({})
    return
  end
  local calls = {}
  for i, id in ipairs(uniq) do
    calls[i] = { 'get', { id = id } }
  end
  heapd().batch(calls, function(replies)
    local out = {}
    for i, id in ipairs(uniq) do
      local r = replies[i] or {}
      if r.err then
        out[id] = { error = r.err }
      else
        out[id] = r.result
      end
    end
    callback(out)
  end)
end

-- The name of a holder session {session, name, count} from inspect's holders.
local function session_name(s)
  return is_null(s.name) and ('anonymous session ' .. tostring(s.session)) or tostring(s.name)
end

local function describe(id, info)
  if not info then
    return fmt_id(id)
  end
  if info.error then
    local e = info.error
    if type(e.data) == 'table' and e.data.state == 'freed' then
      return fmt_id(id) .. ' (freed)'
    end
    return fmt_id(id) .. ' (' .. tostring(e.message) .. ')'
  end
  return fmt_id(id) .. ' ' .. tostring(info.type)
end

-- Trees -------------------------------------------------------------------
-- A node: {id, label (text after the id), expandable, expanded, children,
-- loading, error, cycle}. render_tree appends lines and fills linemap
-- (line number -> node).

local function render_tree(nodes, indent, lines, linemap, describe_node)
  for _, node in ipairs(nodes) do
    local marker
    if node.expandable and not node.cycle then
      marker = node.expanded and '▾ ' or '▸ '
    else
      marker = '· '
    end
    lines[#lines + 1] = string.rep('  ', indent) .. marker .. describe_node(node)
    linemap[#lines] = node
    if node.expanded then
      if node.loading then
        lines[#lines + 1] = string.rep('  ', indent + 2) .. '(loading…)'
      elseif node.error then
        lines[#lines + 1] = string.rep('  ', indent + 2) .. '(' .. node.error .. ')'
      elseif node.children then
        if #node.children == 0 then
          lines[#lines + 1] = string.rep('  ', indent + 2) .. (node.empty_text or '(none)')
        end
        render_tree(node.children, indent + 2, lines, linemap, describe_node)
      end
    end
  end
end

local function node_at_cursor(view)
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  return view.linemap and view.linemap[lnum], lnum
end

-- The object id on the cursor line: the `#N` under the cursor, else the
-- first `#N` of the line.
function M.id_on_line(line, col)
  local first
  local init = 1
  while true do
    local s, e, digits = line:find('#(%d+)', init)
    if not s then
      break
    end
    local id = tonumber(digits)
    if col and col >= s and col <= e then
      return id
    end
    first = first or id
    init = e + 1
  end
  return first
end

local function cursor_id()
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2] + 1
  return M.id_on_line(line, col)
end

local function ancestors_have(node, id)
  local n = node
  while n do
    if n.id == id then
      return true
    end
    n = n.parent
  end
  return false
end

-- Stats -------------------------------------------------------------------

local function render_stats(view)
  local s = view.data
  local lines = header('heapd stats')
  local st = heapd().state
  lines[#lines + 1] = string.format('updated %s (refresh %d)', view.updated or '-', view.refreshes or 0)
  lines[#lines + 1] = ''
  if view.error then
    lines[#lines + 1] = 'error: ' .. view.error
  elseif s then
    local gc = type(s.gc) == 'table' and s.gc or {}
    local debug = type(gc.debug) == 'table' and table.concat(gc.debug, ',') or ''
    if debug == '' then
      debug = '-'
    end
    local persistence = type(s.persistence) == 'table' and (s.persistence.mode or short_json(s.persistence))
      or tostring(s.persistence)
    local uptime = tonumber(s.uptime_s) and string.format('%.1f s', s.uptime_s) or tostring(s.uptime_s)
    local pairs_ = {
      { 'objects', s.objects, 'bytes', s.bytes },
      { 'gc', gc.enabled == false and 'disabled' or 'enabled', 'debug', debug },
      { 'permanent', s.permanent, 'garbage', s.garbage },
      { 'roots', s.roots, 'sessions', s.sessions },
      { 'connections', s.connections, 'requests', s.requests },
      { 'uptime', uptime, 'persistence', persistence },
    }
    for _, p in ipairs(pairs_) do
      lines[#lines + 1] = pad(p[1], 13) .. pad(tostring(is_null(p[2]) and '-' or p[2]), 12)
        .. pad(p[3], 13) .. tostring(is_null(p[4]) and '-' or p[4])
    end
    lines[#lines + 1] = ''
    lines[#lines + 1] = 'generation   objects   count/threshold   collections   collected   uncollectable'
    for g, gen in ipairs(type(s.generations) == 'table' and s.generations or {}) do
      lines[#lines + 1] = pad(g - 1, 10)
        .. lpad(gen.objects, 10)
        .. lpad(tostring(gen.count) .. '/' .. tostring(gen.threshold), 18)
        .. lpad(gen.collections, 14)
        .. lpad(gen.collected, 12)
        .. lpad(gen.uncollectable, 16)
    end
    lines[#lines + 1] = ''
    local types = type(s.types) == 'table' and s.types or {}
    lines[#lines + 1] = pad('types (top ' .. #types .. ')', 30) .. lpad('count', 10) .. lpad('bytes', 12)
    for _, t in ipairs(types) do
      lines[#lines + 1] = pad(t.type, 30) .. lpad(t.count, 10) .. lpad(t.bytes, 12)
    end
  else
    lines[#lines + 1] = '(loading…)'
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = 'recent events (newest last; :HeapEvents for all)'
  local evs = st.events
  if #evs == 0 then
    lines[#lines + 1] = '  (none yet)'
  end
  for i = math.max(1, #evs - 9), #evs do
    lines[#lines + 1] = '  ' .. heapd().format_event(evs[i])
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = 'R refresh  q close  (refreshed live on gc.stop and freed)'
  set_lines(view.buf, lines)
end

local function refresh_stats(view)
  if view.inflight then
    view.dirty = true
    return
  end
  view.inflight = true
  view.dirty = false
  heapd().request('stats', nil, function(err, result)
    view.inflight = false
    if not vim.api.nvim_buf_is_valid(view.buf) then
      return
    end
    view.refreshes = (view.refreshes or 0) + 1
    view.updated = os.date('%H:%M:%S')
    if err then
      view.error = heapd().format_error(err)
    else
      view.error = nil
      view.data = result
    end
    render_stats(view)
    if view.dirty then
      refresh_stats(view)
    end
  end)
end

function M.stats()
  local buf, view = get_view('heapd://stats', 'stats')
  show(buf)
  render_stats(view)
  refresh_stats(view)
  return buf
end

-- Inspect -----------------------------------------------------------------

local function field_children(fields, objects, parent)
  local names = vim.tbl_keys(type(fields) == 'table' and fields or {})
  table.sort(names)
  local children = {}
  for _, name in ipairs(names) do
    local target = fields[name]
    local info = objects[target]
    local node = {
      id = target,
      field = name,
      info = info,
      parent = parent,
      expandable = info ~= nil and not info.error,
    }
    node.cycle = parent ~= nil and ancestors_have(parent, target)
    children[#children + 1] = node
  end
  return children
end

-- TEXT followed by the node's refcount (when known) and a cycle mark.
local function with_node_suffix(text, node)
  if node.info and not node.info.error and node.info.refcount then
    text = text .. '  refcount ' .. tostring(node.info.refcount)
  end
  if node.cycle then
    text = text .. '  (cycle)'
  end
  return text
end

local function describe_field(node)
  return with_node_suffix(node.field .. ' = ' .. describe(node.id, node.info), node)
end

local function render_inspect(view)
  local lines = header('heapd inspect ' .. fmt_id(view.id))
  lines[#lines + 1] = ''
  view.linemap = {}
  local r = view.data
  if view.error then
    lines[#lines + 1] = 'error: ' .. view.error
    if view.error_detail then
      lines[#lines + 1] = view.error_detail
    end
  elseif not r then
    lines[#lines + 1] = '(loading…)'
  else
    local objects = view.objects or {}
    lines[#lines + 1] = 'object       ' .. fmt_id(r.id) .. ' ' .. tostring(r.type)
    lines[#lines + 1] = string.format('refcount     %s   (sys.getrefcount: %s)', tostring(r.refcount), tostring(r.getrefcount))
    lines[#lines + 1] = 'size         ' .. tostring(r.size)
    lines[#lines + 1] = string.format(
      'generation   %s   tracked: %s',
      tostring(r.generation),
      r.tracked == true and 'yes' or (r.tracked == false and 'no' or '-')
    )
    local fin = r.finalizer == true and ('yes (' .. (r.finalized == true and 'finalized' or 'not finalized') .. ')') or 'no'
    lines[#lines + 1] = 'finalizer    ' .. fin
    lines[#lines + 1] = 'data         ' .. short_json(r.data, 500)
    if r.referent ~= nil then
      lines[#lines + 1] = 'referent     ' .. (is_null(r.referent) and 'null (dead)' or describe(r.referent, objects[r.referent]))
    end
    lines[#lines + 1] = ''
    local h = type(r.holders) == 'table' and r.holders or {}
    lines[#lines + 1] = string.format('holders (%s references)', tostring(r.refcount))
    local nh = 0
    for _, f in ipairs(type(h.fields) == 'table' and h.fields or {}) do
      lines[#lines + 1] = '  field    ' .. describe(f.object, objects[f.object]) .. ' .' .. tostring(f.field)
      nh = nh + 1
    end
    for _, s in ipairs(type(h.sessions) == 'table' and h.sessions or {}) do
      local name = session_name(s)
      lines[#lines + 1] = string.format('  session  %s ×%s', name, tostring(s.count))
      nh = nh + 1
    end
    for _, root in ipairs(type(h.roots) == 'table' and h.roots or {}) do
      lines[#lines + 1] = '  root     ' .. tostring(type(root) == 'table' and (root.name or short_json(root)) or root)
      nh = nh + 1
    end
    if tonumber(h.garbage) and h.garbage > 0 then
      lines[#lines + 1] = '  gc.garbage ×' .. tostring(h.garbage)
      nh = nh + 1
    end
    if nh == 0 then
      lines[#lines + 1] = '  (none)'
    end
    lines[#lines + 1] = ''
    local nfields = view.fields and #view.fields or 0
    lines[#lines + 1] = string.format('fields (%d)', nfields)
    if nfields == 0 then
      lines[#lines + 1] = '  (none)'
    else
      render_tree(view.fields, 1, lines, view.linemap, describe_field)
    end
    lines[#lines + 1] = ''
    local function idlist(label, ids)
      ids = type(ids) == 'table' and ids or {}
      lines[#lines + 1] = pad(label, 13) .. (#ids == 0 and '-' or heapd().ids_text(ids, 50))
    end
    idlist('referrers', r.referrers)
    idlist('referents', r.referents)
    idlist('weakrefs', r.weakrefs)
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = '<CR> inspect id  o/<Tab> expand field  <BS> back  r referrers  R refresh  q close'
  set_lines(view.buf, lines)
end

local function load_inspect(view, done, silent)
  local id = view.id
  view.seq = (view.seq or 0) + 1
  local seq = view.seq
  heapd().request('inspect', { id = id }, function(err, r)
    if view.seq ~= seq or not vim.api.nvim_buf_is_valid(view.buf) then
      return
    end
    if err then
      view.data = nil
      view.error = heapd().format_error(err)
      view.error_detail = string.format('(%s %s%s)', tostring(err.code), heapd().error_names[err.code] or '',
        type(err.data) == 'table' and (' ' .. short_json(err.data)) or '')
      heapd().state.last_error = err
      render_inspect(view)
      if not silent then
        heapd().message('heapd: inspect ' .. fmt_id(id) .. ': ' .. view.error, vim.log.levels.ERROR)
      end
      if done then
        done(err)
      end
      return
    end
    local want = {}
    for _, f in ipairs(type(r.holders) == 'table' and type(r.holders.fields) == 'table' and r.holders.fields or {}) do
      want[#want + 1] = f.object
    end
    for _, target in pairs(type(r.fields) == 'table' and r.fields or {}) do
      want[#want + 1] = target
    end
    if not is_null(r.referent) and r.referent ~= nil then
      want[#want + 1] = r.referent
    end
    fetch_objects(want, function(objects)
      if view.seq ~= seq or not vim.api.nvim_buf_is_valid(view.buf) then
        return
      end
      view.error, view.error_detail = nil, nil
      view.data = r
      view.objects = objects
      view.fields = field_children(r.fields, objects, { id = r.id })
      render_inspect(view)
      if done then
        done(nil, r)
      end
    end)
  end)
end

local function expand_field(view, node)
  if not node or not node.expandable or node.cycle then
    return
  end
  if node.expanded then
    node.expanded = false
    render_inspect(view)
    return
  end
  node.expanded = true
  if node.children then
    render_inspect(view)
    return
  end
  node.loading = true
  render_inspect(view)
  heapd().request('get', { id = node.id }, function(err, obj)
    if err then
      node.loading = false
      node.error = heapd().format_error(err)
      render_inspect(view)
      return
    end
    local targets = {}
    for _, t in pairs(type(obj.fields) == 'table' and obj.fields or {}) do
      targets[#targets + 1] = t
    end
    fetch_objects(targets, function(objects)
      node.loading = false
      node.children = field_children(obj.fields, objects, node)
      node.empty_text = '(no fields)'
      render_inspect(view)
    end)
  end)
end

local function inspect_in(view, id, push)
  if push and view.id and view.id ~= id then
    table.insert(view.history, view.id)
  end
  view.id = id
  view.data, view.error, view.fields = nil, nil, nil
  render_inspect(view)
  load_inspect(view)
end

function M.inspect(id)
  local buf, view = get_view('heapd://inspect', 'inspect')
  if not view.history then
    view.history = {}
    local map = buf_mapper(buf)
    map('<CR>', function()
      local target = cursor_id()
      if not target then
        heapd().message('heapd: no object id on this line')
        return
      end
      inspect_in(view, target, true)
    end, 'heapd: inspect the id on this line')
    local function toggle()
      local node = node_at_cursor(view)
      if not node then
        heapd().message('heapd: not a field line')
        return
      end
      expand_field(view, node)
    end
    map('o', toggle, 'heapd: expand/collapse field')
    map('<Tab>', toggle, 'heapd: expand/collapse field')
    map('<BS>', function()
      local prev = table.remove(view.history)
      if not prev then
        heapd().message('heapd: no previous object')
        return
      end
      inspect_in(view, prev, false)
    end, 'heapd: back')
    map('r', function()
      M.referrers(cursor_id() or view.id)
    end, 'heapd: referrers')
  end
  show(buf)
  inspect_in(view, id, true)
  return buf
end

-- Referrers ---------------------------------------------------------------

local function describe_referrer(node)
  if node.kind == 'session' or node.kind == 'root' or node.kind == 'garbage' then
    return node.label
  end
  local text = describe(node.id, node.info)
  if node.via then
    text = text .. ' ' .. node.via
  end
  return with_node_suffix(text, node)
end

local function render_referrers(view)
  local lines = header('heapd referrers of ' .. fmt_id(view.id))
  lines[#lines + 1] = ''
  view.linemap = {}
  if view.error then
    lines[#lines + 1] = 'error: ' .. view.error
  elseif not view.root then
    lines[#lines + 1] = '(loading…)'
  else
    render_tree({ view.root }, 0, lines, view.linemap, describe_referrer)
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = '<CR> inspect  o/<Tab> expand/collapse  R refresh  q close'
  set_lines(view.buf, lines)
end

-- Load a node's holders as children.
local function load_referrers(view, node, done)
  node.loading = true
  heapd().request('inspect', { id = node.id }, function(err, r)
    if err then
      node.loading = false
      node.error = heapd().format_error(err)
      render_referrers(view)
      if done then
        done(err)
      end
      return
    end
    local h = type(r.holders) == 'table' and r.holders or {}
    local order, via = {}, {}
    for _, f in ipairs(type(h.fields) == 'table' and h.fields or {}) do
      if not via[f.object] then
        order[#order + 1] = f.object
        via[f.object] = {}
      end
      table.insert(via[f.object], '.' .. tostring(f.field))
    end
    fetch_objects(order, function(objects)
      node.loading = false
      node.info = node.info or { type = r.type, refcount = r.refcount }
      local children = {}
      for _, oid in ipairs(order) do
        local child = {
          id = oid,
          info = objects[oid],
          via = table.concat(via[oid], ', '),
          parent = node,
          expandable = true,
        }
        child.cycle = ancestors_have(node, oid)
        children[#children + 1] = child
      end
      for _, s in ipairs(type(h.sessions) == 'table' and h.sessions or {}) do
        local name = session_name(s)
        children[#children + 1] = { kind = 'session', label = string.format('session %s ×%s', name, tostring(s.count)) }
      end
      for _, root in ipairs(type(h.roots) == 'table' and h.roots or {}) do
        children[#children + 1] = { kind = 'root', label = 'root ' .. tostring(root) }
      end
      if tonumber(h.garbage) and h.garbage > 0 then
        children[#children + 1] = { kind = 'garbage', label = 'gc.garbage ×' .. tostring(h.garbage) }
      end
      node.children = children
      node.empty_text = '(no holders)'
      render_referrers(view)
      if done then
        done(nil)
      end
    end)
  end)
end

local function toggle_referrer(view, node)
  if not node or not node.expandable or node.cycle then
    return
  end
  node.expanded = not node.expanded
  if node.expanded and not node.children and not node.loading then
    node.error = nil
    load_referrers(view, node)
  end
  render_referrers(view)
end

local function load_referrers_root(view, silent)
  view.seq = (view.seq or 0) + 1
  local seq = view.seq
  local id = view.id
  view.root, view.error = nil, nil
  render_referrers(view)
  fetch_objects({ id }, function(objects)
    if view.seq ~= seq or not vim.api.nvim_buf_is_valid(view.buf) then
      return
    end
    local info = objects[id]
    if info and info.error then
      view.error = heapd().format_error(info.error)
      heapd().state.last_error = info.error
      render_referrers(view)
      if not silent then
        heapd().message('heapd: referrers ' .. fmt_id(id) .. ': ' .. view.error, vim.log.levels.ERROR)
      end
      return
    end
    view.root = { id = id, info = info, expandable = true, expanded = true }
    load_referrers(view, view.root)
  end)
end

function M.referrers(id)
  local buf, view = get_view('heapd://referrers', 'referrers')
  if not view.mapped then
    view.mapped = true
    local map = buf_mapper(buf)
    map('<CR>', function()
      local target = cursor_id()
      if not target then
        heapd().message('heapd: no object id on this line')
        return
      end
      M.inspect(target)
    end, 'heapd: inspect the id on this line')
    local function toggle()
      toggle_referrer(view, (node_at_cursor(view)))
    end
    map('o', toggle, 'heapd: expand/collapse')
    map('<Tab>', toggle, 'heapd: expand/collapse')
  end
  view.id = id
  show(buf)
  load_referrers_root(view)
  return buf
end

-- Events ------------------------------------------------------------------

local function render_events(view)
  local lines = header('heapd events')
  local st = heapd().state
  lines[#lines + 1] = 'subscribed: ' .. table.concat(type(st.subscribed) == 'table' and st.subscribed or {}, ', ')
  lines[#lines + 1] = ''
  if #st.events == 0 then
    lines[#lines + 1] = '(none yet)'
  end
  for _, ev in ipairs(st.events) do
    lines[#lines + 1] = heapd().format_event(ev)
  end
  set_lines(view.buf, lines)
end

function M.events()
  local buf, view = get_view('heapd://events', 'events')
  show(buf)
  render_events(view)
  return buf
end

-- Call results --------------------------------------------------------------

function M.show_result(method, result)
  local compact = short_json(result, 100000)
  local width = vim.o.columns - 20
  if #compact <= width and not compact:find('\n') then
    heapd().message('heapd: ' .. method .. ' → ' .. compact)
    return
  end
  local buf, view = get_view('heapd://call', 'call')
  view.method, view.result = method, result
  local lines = { 'heapd ' .. method .. ' result', '' }
  for l in (json.pretty(result) .. '\n'):gmatch('(.-)\n') do
    lines[#lines + 1] = l
  end
  set_lines(buf, lines)
  vim.api.nvim_buf_set_option(buf, 'filetype', 'json')
  show(buf)
  heapd().message('heapd: ' .. method .. ': result in buffer heapd://call')
end

-- Refresh / events --------------------------------------------------------

-- The DOT text of a :HeapGraph (with the temp file it was written to).
function M.graph(id, r, file)
  local buf, view = get_view('heapd://graph', 'graph')
  view.id = id
  local lines = {
    string.format('// heapd graph #%d: %d nodes, %d edges%s; also in %s', id, r.nodes, r.edges,
      r.truncated and ' (truncated: more than max_nodes)' or '', file),
  }
  for line in (r.text .. (r.text:sub(-1) == '\n' and '' or '\n')):gmatch('(.-)\n') do
    lines[#lines + 1] = line
  end
  set_lines(buf, lines)
  vim.api.nvim_buf_set_option(buf, 'filetype', 'dot')
  show(buf)
end

-- A root holder as people read it: "session alice", "root config", "gc.garbage".
local function holder_text(root)
  if type(root) ~= 'table' then
    return '?'
  end
  if root.kind == 'session' then
    return is_null(root.name) and ('anonymous session #' .. tostring(root.session)) or ('session ' .. root.name)
  elseif root.kind == 'root' then
    return 'root ' .. tostring(root.name)
  elseif root.kind == 'permanent' then
    return 'permanent generation (gc.freeze)'
  end
  return 'gc.garbage'
end

-- :HeapWhy: one line per path, "session alice (2): #3 .0 -> #1 .partner -> #2".
function M.why(id, r)
  local buf, view = get_view('heapd://why', 'why')
  view.id = id
  local lines = header('heapd why is #' .. id .. ' alive')
  lines[#lines + 1] = ''
  if not r.reachable then
    lines[#lines + 1] = '#' .. id .. ' is not reachable from any root: only a cycle keeps it alive'
    lines[#lines + 1] = '(the collector would free it; :HeapGraph ' .. id .. ' shows the cycle)'
  end
  for _, p in ipairs(r.paths or {}) do
    local text = fmt_id(p.ids[1])
    for i, f in ipairs(p.fields) do
      text = text .. ' .' .. f .. ' -> ' .. fmt_id(p.ids[i + 1])
    end
    lines[#lines + 1] = string.format('%s (distance %d): %s', holder_text(p.root), #p.fields, text)
  end
  set_lines(buf, lines)
  show(buf)
end

-- :HeapRetained: the dominator tree's biggest retainers, or one object's retained set.
function M.retained(id, r)
  local buf, view = get_view('heapd://retained', 'retained')
  view.id = id
  local lines
  if id then
    lines = header('heapd what #' .. id .. ' keeps alive')
    lines[#lines + 1] = ''
    if r.reachable == false then
      lines[#lines + 1] = '#' .. id .. ' is not reachable from any root (only a cycle keeps it)'
    else
      lines[#lines + 1] = string.format('#%d retains %d objects, %d bytes; immediate dominator: %s', id,
        r.retained_count, r.retained_bytes, is_null(r.idom) and 'the roots' or fmt_id(r.idom))
    end
  else
    lines = header('heapd biggest retainers (what each alone keeps alive)')
    lines[#lines + 1] = ''
    lines[#lines + 1] = lpad('ID', 10) .. '  ' .. pad('TYPE', 20) .. lpad('BYTES', 14) .. lpad('OBJECTS', 10) .. '  IDOM'
    for _, e in ipairs(r.top or {}) do
      lines[#lines + 1] = lpad(fmt_id(e.id), 10) .. '  ' .. pad(e.type, 20) .. lpad(e.retained_bytes, 14)
        .. lpad(e.retained_count, 10) .. '  ' .. (is_null(e.idom) and '(roots)' or fmt_id(e.idom))
    end
  end
  set_lines(buf, lines)
  show(buf)
end

function M.refresh(buf)
  local view = M.views[buf]
  if not view then
    return
  end
  if view.kind == 'stats' then
    refresh_stats(view)
  elseif view.kind == 'inspect' and view.id then
    load_inspect(view)
  elseif view.kind == 'referrers' and view.id then
    load_referrers_root(view)
  elseif view.kind == 'events' then
    render_events(view)
  elseif view.kind == 'graph' and view.id then
    heapd().graph(view.id, nil, { buffer = true })
  elseif view.kind == 'why' and view.id then
    heapd().why(view.id)
  elseif view.kind == 'retained' then
    heapd().retained(view.id)
  end
end

function M.on_event(method, params)
  for buf, view in pairs(M.views) do
    if vim.api.nvim_buf_is_valid(buf) then
      if view.kind == 'stats' then
        if method == 'gc.stop' or method == 'freed' then
          refresh_stats(view)
        else
          render_stats(view)
        end
      elseif view.kind == 'events' then
        render_events(view)
      elseif method == 'freed' and type(params) == 'table' and type(params.ids) == 'table' then
        if view.kind == 'inspect' and view.data then
          -- Refresh when the object itself or something it shows was freed.
          local shown = { [view.id] = true }
          for _, oid in ipairs(type(view.data.referrers) == 'table' and view.data.referrers or {}) do
            shown[oid] = true
          end
          for _, oid in ipairs(type(view.data.referents) == 'table' and view.data.referents or {}) do
            shown[oid] = true
          end
          for _, oid in ipairs(params.ids) do
            if shown[oid] then
              load_inspect(view, nil, true)
              break
            end
          end
        elseif view.kind == 'referrers' and view.root then
          for _, oid in ipairs(params.ids) do
            if oid == view.id then
              load_referrers_root(view, true)
              break
            end
          end
        end
      end
    end
  end
end

function M.on_connect()
  for buf, view in pairs(M.views) do
    if vim.api.nvim_buf_is_valid(buf) and view.kind == 'stats' then
      refresh_stats(view)
    end
  end
end

function M.on_disconnect()
  for buf, view in pairs(M.views) do
    if vim.api.nvim_buf_is_valid(buf) then
      if view.kind == 'stats' then
        render_stats(view)
      elseif view.kind == 'events' then
        render_events(view)
      end
    end
  end
end

return M
