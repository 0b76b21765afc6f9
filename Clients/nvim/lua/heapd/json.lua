-- JSON for heapd.
--
-- Decoding uses `vim.json.decode` (present since Neovim 0.7; `null` becomes
-- `vim.NIL`, `{}` becomes `vim.empty_dict()`), falling back to
-- `vim.fn.json_decode`.
--
-- Encoding is done here rather than with `vim.json.encode`, because lua-cjson
-- writes numbers with 14 significant digits: an object id such as
-- 9007199254740991 (ids go up to 2^53-1) would come out as
-- 9.007199254741e+15. Integral numbers are written exactly; tables are arrays
-- when `vim.tbl_islist` says so (an empty table is `[]`, `vim.empty_dict()`
-- is `{}`); `vim.NIL` and `nil` are `null`.
local M = {}

local has_vim_json = type(vim.json) == 'table' and type(vim.json.decode) == 'function'

M.null = vim.NIL

local function is_null(v)
  return v == nil or v == vim.NIL
end
M.is_null = is_null

local function is_empty_dict(t)
  return getmetatable(t) ~= nil and getmetatable(t) == getmetatable(vim.empty_dict())
end

local escapes = {
  ['"'] = '\\"',
  ['\\'] = '\\\\',
  ['\b'] = '\\b',
  ['\f'] = '\\f',
  ['\n'] = '\\n',
  ['\r'] = '\\r',
  ['\t'] = '\\t',
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', c:byte())
  end) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    error('heapd.json: cannot encode ' .. tostring(n))
  end
  if n == math.floor(n) and math.abs(n) < 2 ^ 63 then
    return string.format('%d', n)
  end
  return string.format('%.17g', n)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= 'string' then
      error('heapd.json: object keys must be strings, got ' .. type(k))
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

local function is_array(t)
  if is_empty_dict(t) then
    return false
  end
  return vim.tbl_islist(t)
end

-- indent: nil for compact output, else the indentation unit (e.g. '  ').
local function encode_value(v, indent, level, depth)
  depth = depth or 0
  if depth > 1000 then
    error('heapd.json: nesting too deep')
  end
  local tv = type(v)
  if is_null(v) then
    return 'null'
  elseif tv == 'boolean' then
    return v and 'true' or 'false'
  elseif tv == 'number' then
    return encode_number(v)
  elseif tv == 'string' then
    return encode_string(v)
  elseif tv == 'table' then
    local nl, pad, pad_in, colon = '', '', '', ':'
    if indent then
      nl = '\n'
      pad = string.rep(indent, level)
      pad_in = string.rep(indent, level + 1)
      colon = ': '
    end
    local parts = {}
    if is_array(v) then
      if #v == 0 then
        return '[]'
      end
      for i = 1, #v do
        parts[i] = pad_in .. encode_value(v[i], indent, level + 1, depth + 1)
      end
      return '[' .. nl .. table.concat(parts, ',' .. nl) .. nl .. pad .. ']'
    end
    local keys = sorted_keys(v)
    if #keys == 0 then
      return '{}'
    end
    for i, k in ipairs(keys) do
      parts[i] = pad_in .. encode_string(k) .. colon .. encode_value(v[k], indent, level + 1, depth + 1)
    end
    return '{' .. nl .. table.concat(parts, ',' .. nl) .. nl .. pad .. '}'
  end
  error('heapd.json: cannot encode a ' .. tv)
end

-- compact
function M.encode(v)
  return encode_value(v, nil, 0)
end

-- indented, keys sorted (for buffers)
function M.pretty(v)
  return encode_value(v, '  ', 0)
end

function M.decode(s)
  if has_vim_json then
    return vim.json.decode(s)
  end
  return vim.fn.json_decode(s)
end

return M
