" Syntax for heapd.nvim scratch buffers.
if exists('b:current_syntax')
  finish
endif
syntax match heapdTitle /^heapd .*/
syntax match heapdSection /^\(holders\|fields\|recent events\|types\|generation\|subscribed\)\>.*/
syntax match heapdId /#\d\+/
syntax match heapdMarker /[▸▾·]/
syntax match heapdError /^error: .*/
syntax match heapdHelp /^<CR> .*\|^R refresh .*/
syntax match heapdCycle /(cycle)\|(freed)/
highlight default link heapdTitle Title
highlight default link heapdSection Statement
highlight default link heapdId Identifier
highlight default link heapdMarker Special
highlight default link heapdError ErrorMsg
highlight default link heapdHelp Comment
highlight default link heapdCycle WarningMsg
let b:current_syntax = 'heapd'
