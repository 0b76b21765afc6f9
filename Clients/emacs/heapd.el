;;; heapd.el --- Client for heapd, a shared garbage-collected object heap  -*- lexical-binding: t; -*-

;; Author: heapd contributors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0"))
;; Keywords: tools, processes
;; URL: https://github.com/heapd/heapd

;; This file is not part of GNU Emacs.

;;; Commentary:

;; heapd is a daemon hosting a shared, garbage-collected object heap
;; with CPython 3.11's memory model (reference counting, a generational
;; cycle collector, weak references, finalizers), spoken to over
;; JSON-RPC 2.0 on a Unix domain socket.  This package is its Emacs
;; client, built on the built-in `jsonrpc' library (LSP-style
;; Content-Length framing, which heapd detects from the first byte).
;;
;; Commands:
;;
;;   `heapd-connect'     connect, open the named session "emacs-<pid>"
;;                       and subscribe to gc.stop, freed and finalize
;;   `heapd-disconnect'  disconnect (with a prefix argument, close the
;;                       session first, dropping its references)
;;
;; When Emacs exits, the session is closed (`heapd-close-session-on-exit');
;; `heapd-session-lease' gives it a lease for an Emacs that dies instead.
;;   `heapd-stats'       heap summary, refreshed live from notifications
;;   `heapd-inspect'     one object: type, refcount and its holders,
;;                       fields; ids are buttons (RET inspects them)
;;   `heapd-referrers'   the tree of what keeps an object alive
;;   `heapd-graph'       a Graphviz picture around the object at point
;;                       (SVG opened with xdg-open, else the DOT text)
;;   `heapd-collect'     run the cycle collector (gc.collect)
;;   `heapd-call'        any method with JSON params; shows the result
;;   `heapd-allocate', `heapd-set-field', `heapd-ref', `heapd-unref'
;;
;; Lisp API: `heapd-request' (any method), `heapd-allocate', `heapd-set',
;; `heapd-get', `heapd-ref', `heapd-unref', `heapd-inspect-object',
;; `heapd-referrers-of', `heapd-fetch-stats', `heapd-root-set'.
;; Notifications are appended to `heapd-event-log' (newest first) and
;; passed to `heapd-event-functions'.
;;
;; JSON mapping (that of `jsonrpc'): objects are plists with keyword
;; keys, arrays are vectors, null is nil, false is `:json-false', true
;; is t.  Integers stay integers.  To send an empty object, or an
;; object whose values may be null, this package builds hash tables.

;;; Code:

(require 'cl-lib)
(require 'eieio)
(require 'jsonrpc)
(require 'button)
(require 'seq)
(require 'subr-x)
(require 'thingatpt)

;;;; Customization

(defgroup heapd nil
  "Client for the heapd shared object heap."
  :group 'tools
  :prefix "heapd-")

(defcustom heapd-socket nil
  "Path of heapd's Unix socket, or nil for the default.
The default is $HEAPD_SOCKET, else $XDG_RUNTIME_DIR/heapd/heapd.sock,
else /tmp/heapd-UID/heapd.sock, as for the daemon."
  :type '(choice (const :tag "Default" nil) file))

(defcustom heapd-session-name nil
  "Name of the heapd session `heapd-connect' opens, or nil for emacs-<pid>.
A named session's references survive disconnects until it is closed."
  :type '(choice (const :tag "emacs-<pid>" nil) string))

(defcustom heapd-close-session-on-exit 'default-name
  "Whether to close the named session when Emacs exits, dropping its references.
`default-name': only the default emacs-<pid> session (no later Emacs
could resume it: left open, it would hold its objects for ever), not
one named by `heapd-session-name', which is kept for later.  t: always.
nil: never."
  :type '(choice (const :tag "Only the default emacs-<pid> session" default-name)
                 (const :tag "Always" t)
                 (const :tag "Never" nil)))

(defcustom heapd-session-lease nil
  "Lease of the named session in seconds, or nil for none.
With a lease the daemon closes the session once no request has renewed
it for that long: a safety net for an Emacs that dies without running
`kill-emacs-hook' (a crash, SIGKILL).  Any request renews it."
  :type '(choice (const :tag "No lease" nil) number))

(defcustom heapd-subscribe-events '("gc.stop" "freed" "finalize")
  "Notification kinds `heapd-connect' subscribes to."
  :type '(repeat string))

(defcustom heapd-request-timeout 30
  "Seconds to wait for a reply from heapd."
  :type 'number)

(defcustom heapd-event-log-size 200
  "Most entries kept in `heapd-event-log'."
  :type 'integer)

(defcustom heapd-jsonrpc-events-size 0
  "Size of jsonrpc's \"*heapd events*\" protocol log buffer.
0 disables it, nil means unlimited."
  :type '(choice (const :tag "Unlimited" nil) integer))

(defcustom heapd-stats-refresh-delay 0.1
  "Seconds to wait after a notification before refreshing `heapd-stats'."
  :type 'number)

(defcustom heapd-inspect-lookup-limit 50
  "Most related objects whose type `heapd-inspect' looks up."
  :type 'integer)

(defcustom heapd-referrers-depth 4
  "Depth of the referrer tree shown by `heapd-referrers'."
  :type 'integer)

(defcustom heapd-referrers-max-nodes 200
  "Most objects expanded in the referrer tree of `heapd-referrers'."
  :type 'integer)

(defcustom heapd-graph-viewer nil
  "How `heapd-graph' shows a picture.
nil: the daemon's SVG opened with xdg-open when it is installed, else
the DOT text in a buffer; `buffer': always the DOT text in a buffer; a
string or a list of strings: the command that opens the SVG file (the
file name is appended)."
  :type '(choice (const :tag "xdg-open if installed, else DOT" nil)
                 (const :tag "DOT text in a buffer" buffer)
                 (string :tag "Command")
                 (repeat :tag "Command and arguments" string)))

(defcustom heapd-graph-depth 2
  "Steps out from the object that `heapd-graph' draws, each way."
  :type 'integer)

(defcustom heapd-graph-max-nodes 200
  "Most objects and roots that `heapd-graph' draws."
  :type 'integer)

;;;; State

(defvar heapd-event-log nil
  "Notifications received from heapd, newest first.
Each entry is a plist (:event NAME :params PARAMS :time FLOAT-TIME),
NAME a string such as \"freed\" and PARAMS the notification's params.
At most `heapd-event-log-size' entries are kept.")

(defvar heapd-event-functions nil
  "Functions called with (NAME PARAMS) for every heapd notification.")

(defvar heapd--connection nil
  "The current `heapd-connection', or nil.")

(defvar heapd--last-collection nil
  "Params of the last gc.stop notification.")

(defvar heapd--stats-timer nil
  "Pending timer refreshing the stats buffer.")

(defvar heapd--methods-cache nil
  "(CONNECTION . NAMES): method names from rpc.discover on CONNECTION.")

(defconst heapd--inspect-buffer-name "*heapd inspect*")
(defconst heapd--stats-buffer-name "*heapd stats*")
(defconst heapd--referrers-buffer-name "*heapd referrers*")
(defconst heapd--result-buffer-name "*heapd result*")
(defconst heapd--graph-buffer-name "*heapd graph*")
(defconst heapd--why-buffer-name "*heapd why*")
(defconst heapd--retained-buffer-name "*heapd retained*")

;;;; Errors

(define-error 'heapd-error "heapd error" 'user-error)

(defun heapd-error-message (err)
  "The daemon's message in heapd-error ERR."
  (nth 1 err))

(defun heapd-error-code (err)
  "The JSON-RPC error code in heapd-error ERR (nil: a client-side error, no reply)."
  (nth 2 err))

(defun heapd-error-data (err)
  "The error's data (a plist or nil) in heapd-error ERR."
  (nth 3 err))

(defun heapd--error-string (err)
  "A one-line description of heapd-error ERR."
  (if (heapd-error-code err)
      (format "%s [%s]" (heapd-error-message err) (heapd-error-code err))
    (heapd-error-message err)))

(defmacro heapd--user-errors (&rest body)
  "Run BODY, turning a `heapd-error' into a plain `user-error'."
  (declare (indent 0) (debug t))
  `(condition-case err
       (progn ,@body)
     (heapd-error (user-error "heapd: %s" (heapd--error-string err)))))

(defun heapd--command-request (interactive method &optional params)
  "`heapd-request' METHOD with PARAMS; if INTERACTIVE, errors are user errors."
  (if interactive
      (heapd--user-errors (heapd-request method params))
    (heapd-request method params)))

;;;; JSON helpers

(defun heapd--obj (&rest kvs)
  "A JSON object (hash table) from alternating keys and values KVS.
Keys are strings, symbols or keywords; a nil value is sent as null."
  (let ((h (make-hash-table :test #'equal)))
    (while kvs
      (let ((k (pop kvs)) (v (pop kvs)))
        (puthash (heapd--key-name k) v h)))
    h))

(defun heapd--key-name (key)
  "KEY as a JSON member name."
  (cond ((stringp key) key)
        ((keywordp key) (substring (symbol-name key) 1))
        ((symbolp key) (symbol-name key))
        (t (format "%s" key))))

(defun heapd--to-object (value)
  "VALUE (hash table, alist or plist) as a JSON object (hash table).
In an alist ((NAME . VALUE) ...) a nil VALUE is sent as null."
  (cond ((hash-table-p value) value)
        ((null value) (make-hash-table :test #'equal))
        ((consp (car value))
         (let ((h (make-hash-table :test #'equal)))
           (dolist (cell value h)
             (puthash (heapd--key-name (car cell)) (cdr cell) h))))
        ((listp value) (apply #'heapd--obj value))
        (t (signal 'wrong-type-argument (list 'listp value)))))

(defun heapd--json (value)
  "VALUE, as read by jsonrpc, as compact JSON text."
  (condition-case nil
      (json-serialize value :null-object nil :false-object :json-false)
    (error (format "%S" value))))

(defun heapd--plist-p (value)
  "Return non-nil if VALUE is a plist read from a JSON object."
  (and (consp value) (keywordp (car value))))

(defun heapd--json-pretty (value &optional indent)
  "VALUE, as read by jsonrpc, as indented JSON text at INDENT."
  (let* ((indent (or indent 0))
         (pad (make-string (+ indent 2) ?\s))
         (end (make-string indent ?\s)))
    (cond
     ((heapd--plist-p value)
      (concat "{\n"
              (mapconcat
               (lambda (cell)
                 (concat pad (heapd--json (heapd--key-name (car cell))) ": "
                         (heapd--json-pretty (cdr cell) (+ indent 2))))
               (cl-loop for (k v) on value by #'cddr collect (cons k v))
               ",\n")
              "\n" end "}"))
     ((hash-table-p value)
      (if (zerop (hash-table-count value)) "{}"
        (let (cells)
          (maphash (lambda (k v) (push (cons k v) cells)) value)
          (heapd--json-pretty
           (cl-loop for (k . v) in (nreverse cells)
                    nconc (list (intern (concat ":" k)) v))
           indent))))
     ((and (vectorp value) (> (length value) 0))
      (if (cl-every (lambda (x) (or (numberp x) (stringp x) (null x)
                                    (memq x '(t :json-false))))
                    value)
          (heapd--json value)
        (concat "[\n"
                (mapconcat (lambda (x) (concat pad (heapd--json-pretty x (+ indent 2))))
                           value ",\n")
                "\n" end "]")))
     (t (heapd--json value)))))

(defun heapd--bool (value)
  "VALUE (a JSON boolean as read by jsonrpc) as \"yes\" or \"no\"."
  (if (and value (not (eq value :json-false))) "yes" "no"))

(defun heapd--truncate (string width)
  "STRING cut to WIDTH characters, with an ellipsis."
  (if (> (length string) width)
      (concat (substring string 0 (max 0 (- width 1))) "…")
    string))

;;;; Connection

(defclass heapd-connection (jsonrpc-process-connection)
  ((socket :initarg :socket :initform nil :reader heapd-connection-socket
           :documentation "Path of the Unix socket.")
   (session :initform nil :accessor heapd-connection-session
            :documentation "Name of the session opened on it."))
  :documentation "A JSON-RPC connection to the heapd daemon.")

(defun heapd-default-socket ()
  "The default socket path, as the daemon computes it."
  (let ((env (getenv "HEAPD_SOCKET"))
        (xdg (getenv "XDG_RUNTIME_DIR")))
    (cond ((and env (not (string-empty-p env))) env)
          ((and xdg (not (string-empty-p xdg)))
           (expand-file-name "heapd/heapd.sock" xdg))
          (t (format "/tmp/heapd-%d/heapd.sock" (user-uid))))))

(defun heapd-socket-path ()
  "The socket to connect to: `heapd-socket' or `heapd-default-socket'."
  (expand-file-name (or heapd-socket (heapd-default-socket))))

(defun heapd--session-name ()
  "The session name to open."
  (or heapd-session-name (format "emacs-%d" (emacs-pid))))

(defun heapd-connected-p ()
  "Non-nil if connected to heapd."
  (and heapd--connection (jsonrpc-running-p heapd--connection)))

(defun heapd--on-shutdown (conn)
  "Forget CONN when its socket closes."
  (when (eq conn heapd--connection)
    (setq heapd--connection nil
          heapd--methods-cache nil)
    (message "heapd: disconnected from %s" (heapd-connection-socket conn))))

(defun heapd--connect-error-text (socket err)
  "A readable message for ERR, a `file-error' connecting to SOCKET.
The error's data ends with the process's property list, which is
noise to a user; keep only the system's reason, and suggest starting
the daemon only when that could help."
  (let* ((reason (or (seq-find #'stringp (cddr err)) (nth 1 err) "unknown error"))
         (hint (cond
                ((and (file-exists-p socket)
                      (not (eq (string-to-char (file-attribute-modes
                                                (file-attributes socket)))
                               ?s)))
                 "it is not a socket; set `heapd-socket' or $HEAPD_SOCKET to heapd's socket")
                ((string-match-p "denied\\|not permitted" reason)
                 "heapd admits only the user it runs as")
                (t (format "is heapd running?  Start it with: heapd --socket %s &"
                           (shell-quote-argument socket))))))
    (format "heapd: cannot connect to %s: %s; %s" socket reason hint)))

(defun heapd--make-connection (socket)
  "Open a `heapd-connection' to SOCKET."
  (let ((proc (condition-case err
                  (make-network-process
                   :name "heapd" :family 'local :service socket
                   :coding 'utf-8-emacs-unix :noquery t)
                (file-error
                 (user-error "%s" (heapd--connect-error-text socket err))))))
    (apply #'make-instance 'heapd-connection
           :name "heapd"
           :process proc
           :socket socket
           :notification-dispatcher #'heapd--dispatch-notification
           :on-shutdown #'heapd--on-shutdown
           ;; jsonrpc >= 1.0.24 replaced the scrollback initarg.
           (if (slot-exists-p 'jsonrpc-connection '-events-buffer-config)
               (list :events-buffer-config
                     (list :size heapd-jsonrpc-events-size :format 'full))
             (list :events-buffer-scrollback-size heapd-jsonrpc-events-size)))))

;;;###autoload
(defun heapd-connect (&optional socket)
  "Connect to heapd at SOCKET, open the named session and subscribe.
SOCKET defaults to `heapd-socket-path'; interactively, a prefix
argument prompts for it.  The session is `heapd-session-name' (by
default emacs-<pid>, resumed if it exists); the subscriptions are
`heapd-subscribe-events'.  Return the connection."
  (interactive
   (list (and current-prefix-arg
              (read-file-name "heapd socket: " nil (heapd-socket-path) t))))
  (let ((socket (expand-file-name (or socket (heapd-socket-path)))))
    (if (and (heapd-connected-p)
             (equal socket (heapd-connection-socket heapd--connection)))
        (progn
          (when (called-interactively-p 'interactive)
            (message "heapd: already connected to %s (session %s)"
                     socket (heapd-connection-session heapd--connection)))
          heapd--connection)
      (when (heapd-connected-p) (heapd-disconnect))
      (let ((conn (heapd--make-connection socket))
            (name (heapd--session-name)))
        (setq heapd--connection conn)
        (condition-case err
            (let ((session (heapd-request "session.open"
                                          (if heapd-session-lease
                                              (heapd--obj "name" name "lease_s" heapd-session-lease)
                                            (heapd--obj "name" name))))
                  (events (heapd-request "subscribe"
                                         (heapd--obj "events"
                                                     (vconcat heapd-subscribe-events)))))
              (setf (heapd-connection-session conn) name)
              (message "heapd: connected to %s, session %s%s, events %s"
                       socket name
                       (if (eq (plist-get session :resumed) t) " (resumed)" "")
                       (mapconcat #'identity (plist-get events :events) ", "))
              conn)
          (error
           (ignore-errors (heapd-disconnect))
           (if (eq (car err) 'heapd-error)
               (user-error "heapd: cannot open session %s: %s"
                           name (heapd--error-string err))
             (signal (car err) (cdr err)))))))))

;;;###autoload
(defun heapd-disconnect (&optional close-session)
  "Disconnect from heapd.
The named session keeps its references; with CLOSE-SESSION
\(interactively, a prefix argument) close it first, dropping them."
  (interactive "P")
  (when (heapd-connected-p)
    (when close-session
      (heapd--user-errors (heapd-request "session.close")))
    (let ((conn heapd--connection))
      (jsonrpc-shutdown conn)
      (when (eq heapd--connection conn) (setq heapd--connection nil))))
  (setq heapd--connection nil))

(defun heapd--on-kill-emacs ()
  "Close the named session as Emacs exits (see `heapd-close-session-on-exit').
Bounded wait, errors ignored: exiting must never hang or fail on heapd."
  (when (and (heapd-connected-p)
             (heapd-connection-session heapd--connection)
             (or (eq heapd-close-session-on-exit t)
                 (and heapd-close-session-on-exit
                      (equal (heapd-connection-session heapd--connection)
                             (format "emacs-%d" (emacs-pid))))))
    (let ((heapd-request-timeout 2))
      (ignore-errors (heapd-request "session.close"))))
  (when heapd--connection
    (ignore-errors (jsonrpc-shutdown heapd--connection))))

(add-hook 'kill-emacs-hook #'heapd--on-kill-emacs)

(defun heapd--ensure-connection ()
  "The live connection, connecting first if needed."
  (if (heapd-connected-p) heapd--connection (heapd-connect)))

(defun heapd--drain (conn)
  "Parse messages left in CONN's process buffer.
jsonrpc 1.0.14 (Emacs 28) leaves the messages that arrived behind a
reply in the buffer until more output arrives; this processes them."
  (let ((proc (jsonrpc--process conn)))
    (when (and (process-live-p proc)
               (buffer-live-p (process-buffer proc))
               (> (buffer-size (process-buffer proc)) 0)
               (fboundp 'jsonrpc--process-filter))
      (run-at-time 0 nil (lambda ()
                           (when (process-live-p proc)
                             (funcall (process-filter proc) proc "")))))))

(defun heapd-request (method &optional params)
  "Call heapd METHOD (a string) with PARAMS and return its result.
PARAMS is a hash table, an alist or a plist (nil sends {}).
Errors from the daemon signal `heapd-error' with data
\(MESSAGE CODE DATA); see `heapd-error-code'."
  (let ((conn (heapd--ensure-connection))
        (method (if (symbolp method) method (intern method))))
    (unwind-protect
        (condition-case err
            (jsonrpc-request conn method (heapd--to-object params)
                             :timeout heapd-request-timeout)
          (jsonrpc-error
           (let* ((info (cdr err))
                  (code (alist-get 'jsonrpc-error-code info))
                  (text (alist-get 'jsonrpc-error-message info)))
             ;; jsonrpc's own failures (no daemon code) are said in heapd's words.
             (signal 'heapd-error
                     (cond
                      ((and (null code) (equal text "Timed out"))
                       (list (format "no reply to %s from heapd within %s s" method
                                     heapd-request-timeout)
                             nil nil))
                      ((and (eql code -1) (not (jsonrpc-running-p conn)))
                       (list (format "the connection to heapd at %s closed before the reply to %s"
                                     (heapd-connection-socket conn) method)
                             nil nil))
                      (t (list (or text (format "%s" info)) code
                               (alist-get 'jsonrpc-error-data info))))))))
      (heapd--drain conn))))

;;;; Notifications and the event log

(defun heapd--dispatch-notification (_conn method params)
  "Handle notification METHOD with PARAMS from heapd."
  (let ((name (if (symbolp method) (symbol-name method) (format "%s" method))))
    (with-demoted-errors "heapd: error handling notification: %S"
      (push (list :event name :params params :time (float-time)) heapd-event-log)
      (when (> (length heapd-event-log) heapd-event-log-size)
        (setcdr (nthcdr (1- heapd-event-log-size) heapd-event-log) nil))
      (pcase name
        ("gc.stop" (setq heapd--last-collection params)
         (heapd--stats-schedule-refresh))
        ("freed" (heapd--stats-schedule-refresh))
        ("session.closed"
         (when (and heapd--connection
                    (equal (plist-get params :name)
                           (heapd-connection-session heapd--connection)))
           (setf (heapd-connection-session heapd--connection) nil))
         (heapd--stats-schedule-refresh))
        ("finalize" nil))
      (run-hook-with-args 'heapd-event-functions name params))))

(defun heapd-clear-event-log ()
  "Empty `heapd-event-log'."
  (interactive)
  (setq heapd-event-log nil))

(defun heapd-events (&optional name)
  "Entries of `heapd-event-log', oldest first; only NAME's if given."
  (cl-remove-if-not (lambda (e) (or (null name) (equal (plist-get e :event) name)))
                    (reverse heapd-event-log)))

(defun heapd--format-event (entry)
  "A one-line description of event log ENTRY."
  (let ((p (plist-get entry :params)))
    (format "%s  %-16s %s"
            (format-time-string "%H:%M:%S" (plist-get entry :time))
            (plist-get entry :event)
            (pcase (plist-get entry :event)
              ("freed" (heapd--truncate
                        (concat "ids " (mapconcat #'number-to-string
                                                  (plist-get p :ids) " "))
                        60))
              ("finalize" (format "#%s %s" (plist-get p :id) (plist-get p :type)))
              ("gc.stop" (format "generation %s: collected %s, uncollectable %s, %.3f ms"
                                 (plist-get p :generation) (plist-get p :collected)
                                 (plist-get p :uncollectable)
                                 (or (plist-get p :duration_ms) 0)))
              ("gc.start" (format "generation %s" (plist-get p :generation)))
              ("weakref.callback" (format "weakref #%s, referent #%s"
                                          (plist-get p :weakref) (plist-get p :referent)))
              ("session.closed" (format "%s" (plist-get p :name)))
              (_ (heapd--json p))))))

;;;; Lisp API

(defun heapd--read-id (prompt)
  "Read an object id with PROMPT, defaulting to the id at point."
  (let* ((default (heapd--id-at-point))
         (n (read-number prompt default)))
    (unless (and (integerp n) (> n 0))
      (user-error "heapd: an object id is a positive integer, not %s" n))
    n))

(defun heapd--id-at-point ()
  "The object id at point: an id button's, else a positive integer."
  (or (get-char-property (point) 'heapd-id)
      (let ((n (number-at-point)))
        (and (integerp n) (> n 0) n))))

;;;###autoload
(cl-defun heapd-allocate (type &key data size fields finalizer)
  "Allocate an object of TYPE and return its id (held by this session).
DATA is any JSON value, SIZE the bytes it accounts for, FIELDS an
alist ((NAME . ID) ...) or plist, FINALIZER non-nil for a finalizer."
  (interactive (list (read-string "Type: " nil nil "object")
                     :finalizer (y-or-n-p "With a finalizer (__del__)? ")))
  (let* ((params (heapd--obj "type" type))
         (id nil))
    (when data (puthash "data" data params))
    (when size (puthash "size" size params))
    (when fields (puthash "fields" (heapd--to-object fields) params))
    (when finalizer (puthash "finalizer" t params))
    (setq id (plist-get (heapd--command-request (called-interactively-p 'any)
                                                "allocate" params)
                        :id))
    (when (called-interactively-p 'interactive)
      (message "heapd: allocated #%d %s" id type))
    id))

(cl-defun heapd-set (id &key fields (data nil data-p) size)
  "Set FIELDS (alist ((NAME . ID-OR-NIL) ...) or plist), DATA, SIZE of ID.
A nil field value deletes the field; an explicit nil DATA removes it.
Return the object's new state."
  (let ((params (heapd--obj "id" id)))
    (when fields (puthash "fields" (heapd--to-object fields) params))
    (when data-p (puthash "data" data params))
    (when size (puthash "size" size params))
    (heapd-request "set" params)))

;;;###autoload
(defun heapd-set-field (id field target)
  "Set FIELD of object ID to object TARGET (nil deletes the field)."
  (interactive
   (let* ((id (heapd--read-id "Object id: "))
          (field (read-string "Field: "))
          (target (read-string "Target id (empty deletes): ")))
     (list id field (and (not (string-empty-p target)) (string-to-number target)))))
  (let ((r (if (called-interactively-p 'any)
               (heapd--user-errors (heapd-set id :fields (list (cons field target))))
             (heapd-set id :fields (list (cons field target))))))
    (when (called-interactively-p 'interactive)
      (message "heapd: #%d.%s = %s (refcount %s)" id field
               (if target (format "#%d" target) "deleted") (plist-get r :refcount)))
    r))

(defun heapd-get (id)
  "The object ID: (:id :type :size :data :fields :refcount :finalizer ...)."
  (heapd-request "get" (heapd--obj "id" id)))

;;;###autoload
(defun heapd-ref (id)
  "Take one more reference to ID for this session; return the result."
  (interactive (list (heapd--read-id "Take a reference to id: ")))
  (let ((r (heapd--command-request (called-interactively-p 'any)
                                   "ref" (heapd--obj "id" id))))
    (when (called-interactively-p 'interactive)
      (message "heapd: #%d refcount %s" id (plist-get r :refcount)))
    r))

;;;###autoload
(defun heapd-unref (id)
  "Drop one of this session's references to ID (Python's del)."
  (interactive (list (heapd--read-id "Drop a reference to id: ")))
  (let ((r (heapd--command-request (called-interactively-p 'any)
                                   "unref" (heapd--obj "id" id))))
    (when (called-interactively-p 'interactive)
      (message "heapd: #%d refcount %s%s" id (plist-get r :refcount)
               (let ((freed (plist-get r :freed)))
                 (if (> (length freed) 0)
                     (format ", freed %s" (mapconcat #'number-to-string freed " "))
                   ""))))
    r))

(defun heapd-root-set (name id)
  "Bind named root NAME to object ID (nil deletes it)."
  (heapd-request "root.set" (heapd--obj "name" name "id" id)))

(defun heapd-inspect-object (id)
  "The daemon's inspection of ID (a plist), without a buffer."
  (heapd-request "inspect" (heapd--obj "id" id)))

(defun heapd-referrers-of (id)
  "Ids of the objects whose fields hold ID (a list)."
  (append (plist-get (heapd-request "referrers" (heapd--obj "id" id)) :referrers) nil))

(defun heapd-fetch-stats ()
  "The daemon's heap summary (a plist)."
  (heapd-request "stats"))

(defun heapd-close-session ()
  "Close this connection's named session, dropping its references."
  (interactive)
  (let ((r (heapd--user-errors (heapd-request "session.close"))))
    (when (and heapd--connection
               (equal (plist-get r :name) (heapd-connection-session heapd--connection)))
      (setf (heapd-connection-session heapd--connection) nil))
    (message "heapd: closed session %s, released %s references"
             (plist-get r :name) (plist-get r :released))
    r))

;;;; Buttons

(define-button-type 'heapd-id
  'action #'heapd--id-button-action
  'follow-link t
  'face 'link
  'help-echo "Inspect this object")

(defun heapd--id-button-action (button)
  "Inspect the object of BUTTON."
  (heapd-inspect (button-get button 'heapd-id)))

(defun heapd--insert-id (id &optional label)
  "Insert a button for object ID, showing LABEL (default #ID)."
  (insert-text-button (or label (format "#%d" id))
                      'type 'heapd-id 'heapd-id id
                      'help-echo (format "RET, mouse-2: inspect object %d" id)))

(defun heapd--insert-ids (ids)
  "Insert buttons for IDS (a sequence), or \"none\"."
  (if (zerop (length ids))
      (insert "none")
    (let ((first t))
      (seq-doseq (id ids)
        (unless first (insert " "))
        (setq first nil)
        (heapd--insert-id id)))))

(defvar heapd-button-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map (make-composed-keymap button-buffer-map special-mode-map))
    (define-key map "n" #'forward-button)
    (define-key map "p" #'backward-button)
    (define-key map "i" #'heapd-inspect)
    (define-key map "r" #'heapd-referrers)
    (define-key map "G" #'heapd-graph)
    (define-key map "c" #'heapd-collect)
    (define-key map "s" #'heapd-stats)
    (define-key map "x" #'heapd-call)
    map)
  "Keys shared by heapd's buffers.")

;;;; Inspect

(defvar-local heapd-inspect--id nil "Object shown in this inspect buffer.")
(defvar-local heapd-inspect--history nil "Previously inspected ids, newest first.")

(defvar heapd-inspect-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map heapd-button-mode-map)
    (define-key map "l" #'heapd-inspect-back)
    (define-key map "R" #'heapd-inspect-show-referrers)
    map)
  "Keymap for `heapd-inspect-mode'.")

(define-derived-mode heapd-inspect-mode special-mode "heapd-inspect"
  "Major mode showing one heapd object.
Object ids are buttons: \\<heapd-inspect-mode-map>\\[push-button] inspects them.
\\{heapd-inspect-mode-map}"
  (setq-local revert-buffer-function
              (lambda (&rest _) (heapd--inspect-render heapd-inspect--id)))
  (setq truncate-lines t))

(defun heapd--lookup (ids)
  "A hash table id -> `get' result for IDS (at most the lookup limit)."
  (let ((h (make-hash-table)) (n 0))
    (seq-doseq (id ids)
      (when (and (not (gethash id h)) (< n heapd-inspect-lookup-limit))
        (cl-incf n)
        (puthash id (condition-case nil (heapd-get id) (heapd-error :gone)) h)))
    h))

(defun heapd--describe (id lookup)
  "Insert a button for ID with its type and data from LOOKUP."
  (heapd--insert-id id)
  (let ((obj (gethash id lookup)))
    (cond ((eq obj :gone) (insert " (gone)"))
          (obj (insert " " (plist-get obj :type))
               (when (plist-get obj :data)
                 (insert " " (heapd--truncate (heapd--json (plist-get obj :data)) 50)))))))

(defun heapd--inspect-render (id)
  "Render object ID into the current buffer.  Return non-nil on success."
  (let ((inhibit-read-only t)
        (line (if (eql id heapd-inspect--id) (line-number-at-pos) 1)))
    (erase-buffer)
    (setq heapd-inspect--id id)
    (condition-case err
        (let* ((o (heapd-inspect-object id))
               (holders (plist-get o :holders))
               (hfields (plist-get holders :fields))
               (sessions (plist-get holders :sessions))
               (roots (plist-get holders :roots))
               (garbage (or (plist-get holders :garbage) 0))
               (fields (plist-get o :fields))
               (lookup (heapd--lookup
                        (vconcat (cl-loop for (_k v) on fields by #'cddr collect v)
                                 (mapcar (lambda (h) (plist-get h :object)) hfields)
                                 (plist-get o :referrers)))))
          (insert (propertize (format "%s #%d" (plist-get o :type) id) 'face 'bold)
                  "\n\n")
          (insert (format "%-12s %s\n" "type" (plist-get o :type)))
          (insert (format "%-12s %s bytes\n" "size" (plist-get o :size)))
          (insert (format "%-12s %s\n" "data"
                          (heapd--truncate (heapd--json (plist-get o :data)) 200)))
          (insert (format "%-12s %s   (sys.getrefcount: %s)\n" "refcount"
                          (plist-get o :refcount) (plist-get o :getrefcount)))
          (insert (format "%-12s %s\n" "generation" (plist-get o :generation)))
          (insert (format "%-12s %s\n" "tracked" (heapd--bool (plist-get o :tracked))))
          (insert (format "%-12s %s   (finalized: %s)\n" "finalizer"
                          (heapd--bool (plist-get o :finalizer))
                          (heapd--bool (plist-get o :finalized))))
          (when (equal (plist-get o :type) "weakref")
            (insert (format "%-12s " "referent"))
            (if (plist-get o :referent)
                (heapd--insert-id (plist-get o :referent))
              (insert "dead"))
            (insert (format "   (callback: %s)\n" (heapd--bool (plist-get o :callback)))))
          (insert (format "\nHolders (refcount %s)\n" (plist-get o :refcount)))
          (seq-doseq (h hfields)
            (insert (format "  field    .%s of " (plist-get h :field)))
            (heapd--describe (plist-get h :object) lookup)
            (insert "\n"))
          (seq-doseq (s sessions)
            (insert (format "  session  %s (session %s): %s reference%s\n"
                            (or (plist-get s :name) "anonymous")
                            (plist-get s :session) (plist-get s :count)
                            (if (eql (plist-get s :count) 1) "" "s"))))
          (seq-doseq (r roots)
            (insert (format "  root     %s\n" r)))
          (when (> garbage 0)
            (insert (format "  gc.garbage: %s\n" garbage)))
          (insert (format "\nFields (%d)\n" (/ (length fields) 2)))
          (if (null fields)
              (insert "  none\n")
            (cl-loop for (k v) on fields by #'cddr
                     do (insert (format "  %-12s " (heapd--key-name k)))
                     (heapd--describe v lookup)
                     (insert "\n")))
          (insert "\n" (format "%-12s " "referrers"))
          (heapd--insert-ids (plist-get o :referrers))
          (insert "\n" (format "%-12s " "referents"))
          (heapd--insert-ids (plist-get o :referents))
          (insert "\n" (format "%-12s " "weakrefs"))
          (heapd--insert-ids (plist-get o :weakrefs))
          (insert "\n")
          (goto-char (point-min))
          (forward-line (1- line))
          t)
      (heapd-error
       (let* ((data (heapd-error-data err))
              (state (plist-get data :state)))
         (insert (propertize (format "Object #%d: %s\n" id
                                     (pcase state
                                       ("freed" "was freed")
                                       ("never-existed" "never existed")
                                       (_ (heapd-error-message err))))
                             'face 'error)
                 (format "\nheapd error %s: %s\n"
                         (heapd-error-code err) (heapd-error-message err)))
         (when heapd-inspect--history
           (insert "\nPress l to go back.\n"))
         (goto-char (point-min))
         (message "heapd: %s" (heapd--error-string err))
         nil)))))

;;;###autoload
(defun heapd-inspect (id)
  "Show object ID: type, refcount and its holders, fields, referrers.
Interactively, prompt for the id, defaulting to the one at point.
Ids in the buffer are buttons.  Return the buffer.  If the object
is not live, say so in the buffer and the echo area."
  (interactive (list (heapd--read-id "Inspect object id: ")))
  (heapd--ensure-connection)
  (let* ((from (and (derived-mode-p 'heapd-inspect-mode) heapd-inspect--id))
         (buf (get-buffer-create heapd--inspect-buffer-name)))
    (with-current-buffer buf
      (unless (derived-mode-p 'heapd-inspect-mode) (heapd-inspect-mode))
      (when (and from (not (eql from id)))
        (push from heapd-inspect--history))
      (heapd--inspect-render id))
    (if (eq (current-buffer) buf)
        (switch-to-buffer buf)
      (pop-to-buffer buf))
    buf))

(defun heapd-inspect-back ()
  "Inspect the previously inspected object."
  (interactive)
  (unless heapd-inspect--history (user-error "heapd: no previous object"))
  (heapd--inspect-render (pop heapd-inspect--history)))

(defun heapd-inspect-show-referrers ()
  "Show the referrer tree of the inspected object."
  (interactive)
  (heapd-referrers heapd-inspect--id))

;;;; Referrers

(defvar heapd-referrers-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map heapd-button-mode-map)
    map)
  "Keymap for `heapd-referrers-mode'.")

(defvar-local heapd-referrers--id nil "Root of this referrer tree.")

(define-derived-mode heapd-referrers-mode special-mode "heapd-referrers"
  "Major mode showing what keeps a heapd object alive.
\\{heapd-referrers-mode-map}"
  (setq-local revert-buffer-function
              (lambda (&rest _) (heapd-referrers heapd-referrers--id)))
  (setq truncate-lines t))

(defun heapd--referrer-tree (o depth seen budget prefix)
  "Insert the holders of the object whose inspection is O, as a tree.
DEPTH levels remain; SEEN holds the ids shown; BUDGET is a
one-element list counting the objects still to expand; PREFIX is
the indentation."
  (puthash (plist-get o :id) t seen)
  (let ((holders (plist-get o :holders)))
    (seq-doseq (h (plist-get holders :fields))
      (let ((ref (plist-get h :object)))
        (insert prefix "<- ")
        (heapd--insert-id ref)
        (insert (format " .%s" (plist-get h :field)))
        (cond ((gethash ref seen) (insert "  (shown above)\n"))
              ((or (<= depth 1) (<= (car budget) 0)) (insert "  ...\n"))
              (t
               (cl-decf (car budget))
               (condition-case err
                   (let ((ro (heapd-inspect-object ref)))
                     (insert (format "  %s, refcount %s\n"
                                     (plist-get ro :type) (plist-get ro :refcount)))
                     (heapd--referrer-tree ro (1- depth) seen budget
                                           (concat prefix "   ")))
                 (heapd-error
                  (insert (format "  (%s)\n" (heapd--error-string err)))))))))
    (seq-doseq (s (plist-get holders :sessions))
      (insert prefix (format "<- session %s: %s reference%s\n"
                             (or (plist-get s :name)
                                 (format "anonymous (session %s)" (plist-get s :session)))
                             (plist-get s :count)
                             (if (eql (plist-get s :count) 1) "" "s"))))
    (seq-doseq (r (plist-get holders :roots))
      (insert prefix (format "<- root %s\n" r)))
    (let ((g (or (plist-get holders :garbage) 0)))
      (when (> g 0)
        (insert prefix (format "<- gc.garbage (%s)\n" g))))))

;;;###autoload
(defun heapd-referrers (id)
  "Show the referrer tree of ID, the holders that keep it alive.
Fields of other objects, sessions, named roots and gc.garbage, up to
`heapd-referrers-depth' levels.  Return the buffer."
  (interactive (list (heapd--read-id "Referrers of object id: ")))
  (heapd--ensure-connection)
  (let ((buf (get-buffer-create heapd--referrers-buffer-name)))
    (with-current-buffer buf
      (unless (derived-mode-p 'heapd-referrers-mode) (heapd-referrers-mode))
      (setq heapd-referrers--id id)
      (let ((inhibit-read-only t))
        (erase-buffer)
        (condition-case err
            (let ((o (heapd-inspect-object id)))
              (insert (propertize (format "Referrers of #%d" id) 'face 'bold) "\n\n")
              (heapd--insert-id id)
              (insert (format " %s, refcount %s\n"
                              (plist-get o :type) (plist-get o :refcount)))
              (heapd--referrer-tree o heapd-referrers-depth (make-hash-table)
                                    (list heapd-referrers-max-nodes) "  "))
          (heapd-error
           (insert (propertize (format "Object #%d: %s\n" id (heapd-error-message err))
                               'face 'error))
           (message "heapd: %s" (heapd--error-string err))))
        (goto-char (point-min))))
    (pop-to-buffer buf)
    buf))

;;;; Graph

(defvar heapd-graph-last nil
  "The last picture of `heapd-graph'.
A plist (:id :format :file :nodes :edges :truncated).")

(defun heapd--graph-request (id format)
  "The daemon's `graph' of ID in FORMAT (\"dot\" or \"svg\"), as a plist."
  (heapd-request "graph" (heapd--obj "id" id "depth" heapd-graph-depth
                                     "max_nodes" heapd-graph-max-nodes "format" format)))

(defun heapd--graph-save (id result suffix)
  "Write RESULT's text (the picture of ID) to a temp file ending in SUFFIX.
Return the file's name."
  (let ((file (make-temp-file "heapd-graph-" nil suffix)))
    (let ((coding-system-for-write 'utf-8-unix))
      (write-region (plist-get result :text) nil file nil 'silent))
    (setq heapd-graph-last
          (list :id id :format (plist-get result :format) :file file
                :nodes (plist-get result :nodes) :edges (plist-get result :edges)
                :truncated (eq (plist-get result :truncated) t)))
    file))

(defun heapd--graph-summary (result)
  "\"N nodes, M edges\" of RESULT, with whether it was truncated."
  (format "%s nodes, %s edges%s" (plist-get result :nodes) (plist-get result :edges)
          (if (eq (plist-get result :truncated) t) " (truncated)" "")))

(defun heapd--graph-show-dot (id)
  "Show the DOT text of the picture of ID in a buffer and a temp file.
Return the buffer."
  (let* ((result (heapd--graph-request id "dot"))
         (file (heapd--graph-save id result ".dot"))
         (buf (get-buffer-create heapd--graph-buffer-name)))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "// heapd graph #%d: %s; also in %s\n" id (heapd--graph-summary result) file))
        (insert (plist-get result :text)))
      (if (fboundp 'graphviz-dot-mode) (funcall 'graphviz-dot-mode) (fundamental-mode))
      (setq buffer-read-only t)
      (goto-char (point-min)))
    (display-buffer buf)
    buf))

;;;###autoload
(defun heapd-graph (id)
  "Open a Graphviz picture around object ID (interactively: the id at point).
Its referents and referrers, `heapd-graph-depth' steps out each way,
objgraph style.  With a viewer (see `heapd-graph-viewer') the daemon
renders SVG into a temp file that the viewer opens, and the file is
returned; otherwise, or when the daemon has no Graphviz, the DOT text is
shown in a buffer, which is returned."
  (interactive (list (heapd--read-id "Graph around object id: ")))
  (heapd--user-errors
    (let ((viewer (cond ((eq heapd-graph-viewer 'buffer) nil)
                        (heapd-graph-viewer)
                        ((executable-find "xdg-open") "xdg-open"))))
      (if (not viewer)
          (heapd--graph-show-dot id)
        (condition-case err
            (let* ((result (heapd--graph-request id "svg"))
                   (file (heapd--graph-save id result ".svg"))
                   (command (append (if (listp viewer) viewer (list viewer)) (list file))))
              (apply #'start-process "heapd-graph-viewer" nil command)
              (message "heapd: graph of #%d: %s: %s" id (heapd--graph-summary result) file)
              file)
          (heapd-error
           (unless (eql (heapd-error-code err) -32014)
             (signal (car err) (cdr err)))
           (message "heapd: %s (showing the DOT text)" (heapd-error-message err))
           (heapd--graph-show-dot id)))))))

;;;; Why is it alive, retained sizes

(defun heapd--holder-text (root)
  "ROOT, a root holder plist, as people read it (\"session alice\", \"root cache\")."
  (pcase (plist-get root :kind)
    ("session" (let ((name (plist-get root :name)))
                 (if (stringp name) (format "session %s" name)
                   (format "anonymous session #%s" (plist-get root :session)))))
    ("root" (format "root %s" (plist-get root :name)))
    ("permanent" "permanent generation (gc.freeze)")
    (_ "gc.garbage")))

(defun heapd--show-buffer (name title body)
  "Fill buffer NAME with TITLE and what BODY inserts; show it and return it."
  (let ((buf (get-buffer-create name)))
    (with-current-buffer buf
      (unless (derived-mode-p 'heapd-stats-mode) (heapd-stats-mode))
      (setq-local revert-buffer-function (lambda (&rest _) nil))
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (propertize title 'face 'bold) "\n\n")
        (funcall body)
        (goto-char (point-min))))
    (display-buffer buf)
    buf))

;;;###autoload
(defun heapd-why (id)
  "Show why object ID is alive: the shortest field path from each root holding it.
Up to five holders (sessions, named roots, the permanent generation,
gc.garbage); or that only a cycle keeps it.  Return the buffer."
  (interactive (list (heapd--read-id "Why is object alive, id: ")))
  (heapd--user-errors
    (let ((r (heapd-request "path" (heapd--obj "id" id "limit" 5))))
      (heapd--show-buffer
       heapd--why-buffer-name (format "Why is #%d alive" id)
       (lambda ()
         (if (not (eq (plist-get r :reachable) t))
             (insert (format "#%d is not reachable from any root: only a cycle keeps it alive\n" id)
                     "(the collector would free it)\n")
           (seq-doseq (p (plist-get r :paths))
             (let ((ids (plist-get p :ids)) (fields (plist-get p :fields)))
               (insert (format "%s (distance %d): " (heapd--holder-text (plist-get p :root)) (length fields)))
               (heapd--insert-id (elt ids 0))
               (dotimes (i (length fields))
                 (insert (format " .%s -> " (elt fields i)))
                 (heapd--insert-id (elt ids (1+ i))))
               (insert "\n")))))))))

;;;###autoload
(defun heapd-retained (&optional id)
  "Show retained sizes from the dominator tree.
Without ID (interactively: without a prefix argument) the heap's biggest
retainers, what each object alone keeps alive; with ID what that object
retains.  Return the buffer."
  (interactive (list (and current-prefix-arg (heapd--read-id "Retained by object id: "))))
  (heapd--user-errors
    (let ((r (heapd-request "dominators" (if id (heapd--obj "id" id "limit" 20) (heapd--obj "limit" 20)))))
      (heapd--show-buffer
       heapd--retained-buffer-name
       (if id (format "What #%d keeps alive" id) "Biggest retainers (what each alone keeps alive)")
       (lambda ()
         (cond
          ((and id (not (eq (plist-get r :reachable) t)))
           (insert (format "#%d is not reachable from any root (only a cycle keeps it)\n" id)))
          (id
           (insert (format "#%d retains %s objects, %s bytes; immediate dominator: " id
                           (plist-get r :retained_count) (plist-get r :retained_bytes)))
           (let ((idom (plist-get r :idom)))
             (if (integerp idom) (heapd--insert-id idom) (insert "the roots")))
           (insert "\n"))
          (t
           (insert (format "%10s  %-20s %14s %9s  %s\n" "ID" "TYPE" "BYTES" "OBJECTS" "IDOM"))
           (seq-doseq (e (plist-get r :top))
             (insert (make-string (max 0 (- 10 (length (format "#%d" (plist-get e :id))))) ?\s))
             (heapd--insert-id (plist-get e :id))
             (insert (format "  %-20s %14s %9s  " (plist-get e :type) (plist-get e :retained_bytes)
                             (plist-get e :retained_count)))
             (let ((idom (plist-get e :idom)))
               (if (integerp idom) (heapd--insert-id idom) (insert "(roots)")))
             (insert "\n")))))))))

;;;; Stats

(defvar heapd-stats-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map heapd-button-mode-map)
    map)
  "Keymap for `heapd-stats-mode'.")

(define-derived-mode heapd-stats-mode special-mode "heapd-stats"
  "Major mode showing heapd's heap summary, refreshed live.
\\{heapd-stats-mode-map}"
  (setq-local revert-buffer-function (lambda (&rest _) (heapd-stats)))
  (setq truncate-lines t))

(defun heapd--stats-render (stats)
  "Render STATS into the stats buffer, if it exists."
  (when-let ((buf (get-buffer heapd--stats-buffer-name)))
    (with-current-buffer buf
      (let ((inhibit-read-only t)
            (line (line-number-at-pos))
            (conn heapd--connection))
        (erase-buffer)
        (insert (propertize "heapd heap" 'face 'bold)
                (if conn
                    (format "  %s  session %s\n\n"
                            (heapd-connection-socket conn)
                            (or (heapd-connection-session conn) "anonymous"))
                  "  (disconnected)\n\n"))
        (let ((gc (plist-get stats :gc)))
          (dolist (row `(("objects" ,(plist-get stats :objects))
                         ("bytes" ,(plist-get stats :bytes))
                         ("permanent" ,(plist-get stats :permanent))
                         ("gc.garbage" ,(plist-get stats :garbage))
                         ("roots" ,(plist-get stats :roots))
                         ("sessions" ,(plist-get stats :sessions))
                         ("connections" ,(plist-get stats :connections))
                         ("requests" ,(plist-get stats :requests))
                         ("uptime" ,(format "%.1f s" (or (plist-get stats :uptime_s) 0)))
                         ("gc" ,(format "%s, debug: %s"
                                        (if (eq (plist-get gc :enabled) t) "enabled" "disabled")
                                        (let ((d (plist-get gc :debug)))
                                          (if (zerop (length d)) "none"
                                            (mapconcat #'identity d " ")))))
                         ("persistence" ,(plist-get (plist-get stats :persistence) :mode))))
            (insert (format "%-13s %s\n" (car row) (cadr row)))))
        (insert "\nGeneration  objects  count/threshold  collections  collected  uncollectable\n")
        (let ((g 0))
          (seq-doseq (gen (plist-get stats :generations))
            (insert (format "%-10d %8s %16s %12s %10s %14s\n" g
                            (plist-get gen :objects)
                            (format "%s/%s" (plist-get gen :count) (plist-get gen :threshold))
                            (plist-get gen :collections) (plist-get gen :collected)
                            (plist-get gen :uncollectable)))
            (cl-incf g)))
        (insert "\nTypes (most objects first)\n")
        (let ((types (plist-get stats :types)))
          (if (zerop (length types)) (insert "  none\n")
            (seq-doseq (ty types)
              (insert (format "  %-20s %8s objects %10s bytes\n"
                              (plist-get ty :type) (plist-get ty :count)
                              (plist-get ty :bytes))))))
        (insert "\nLast collection: "
                (if heapd--last-collection
                    (let ((p heapd--last-collection))
                      (format "generation %s, collected %s, uncollectable %s, %.3f ms"
                              (plist-get p :generation) (plist-get p :collected)
                              (plist-get p :uncollectable)
                              (or (plist-get p :duration_ms) 0)))
                  "none seen")
                "\n")
        (insert "\nRecent events (newest first)\n")
        (if (null heapd-event-log) (insert "  none\n")
          (dolist (e (seq-take heapd-event-log 10))
            (insert "  " (heapd--format-event e) "\n")))
        (goto-char (point-min))
        (forward-line (1- line))
        (dolist (win (get-buffer-window-list buf nil t))
          (set-window-point win (point)))))))

(defun heapd--stats-schedule-refresh ()
  "Refresh the stats buffer soon, if it is open."
  (when (and (get-buffer heapd--stats-buffer-name)
             (not heapd--stats-timer))
    (setq heapd--stats-timer
          (run-with-timer heapd-stats-refresh-delay nil #'heapd--stats-refresh-async))))

(defun heapd--stats-refresh-async ()
  "Ask for stats without waiting and render them when they arrive."
  (setq heapd--stats-timer nil)
  (when (and (heapd-connected-p) (get-buffer heapd--stats-buffer-name))
    (jsonrpc-async-request heapd--connection 'stats (heapd--obj)
                           :success-fn #'heapd--stats-render
                           :error-fn #'ignore
                           :timeout-fn #'ignore
                           :timeout heapd-request-timeout)))

;;;###autoload
(defun heapd-stats ()
  "Show the heap summary, refreshed live by gc.stop and freed events.
Return the buffer."
  (interactive)
  (let ((stats (heapd--user-errors (heapd-fetch-stats)))
        (buf (get-buffer-create heapd--stats-buffer-name)))
    (with-current-buffer buf
      (unless (derived-mode-p 'heapd-stats-mode) (heapd-stats-mode)))
    (heapd--stats-render stats)
    (pop-to-buffer buf)
    buf))

;;;; Collect and call

;;;###autoload
(defun heapd-collect (&optional generation)
  "Run the cycle collector on GENERATION (default 2), as gc.collect().
Interactively, a numeric prefix argument gives the generation.
Report the result in the echo area and return it."
  (interactive (list (and current-prefix-arg (prefix-numeric-value current-prefix-arg))))
  (let* ((r (heapd--user-errors
              (heapd-request "collect" (if generation (heapd--obj "generation" generation)
                                         (heapd--obj))))))
    (message "heapd: collect(%s): %s unreachable, %s collected, %s uncollectable in %.3f ms"
             (plist-get r :generation) (plist-get r :unreachable)
             (plist-get r :collected) (plist-get r :uncollectable)
             (or (plist-get r :duration_ms) 0))
    r))

(defvar heapd-result-mode-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map heapd-button-mode-map)
    map)
  "Keymap for `heapd-result-mode'.")

(define-derived-mode heapd-result-mode special-mode "heapd-result"
  "Major mode showing the result of `heapd-call'.")

(defun heapd--method-names ()
  "Method names for completion: the daemon's own, from rpc.discover.
Fetched once per connection, so nothing is offered that this daemon
lacks.  Not connected and unable to connect: nil (any name can still
be typed)."
  (let ((conn (ignore-errors (heapd--ensure-connection))))
    (cond
     ((null conn) nil)
     ((eq (car heapd--methods-cache) conn) (cdr heapd--methods-cache))
     (t (let ((names (ignore-errors
                       (sort (mapcar (lambda (m) (plist-get m :name))
                                     (plist-get (heapd-request "rpc.discover") :methods))
                             #'string<))))
          (when names (setq heapd--methods-cache (cons conn names)))
          names)))))

(defun heapd--parse-params (json)
  "Parse JSON text (params of `heapd-call') into what jsonrpc sends."
  (if (string-empty-p (string-trim json))
      (heapd--obj)
    (condition-case err
        (json-parse-string json :object-type 'hash-table :array-type 'array
                           :null-object nil :false-object :json-false)
      (json-error (user-error "heapd: params are not valid JSON: %s"
                              (error-message-string err))))))

;;;###autoload
(defun heapd-call (method params)
  "Call heapd METHOD with PARAMS, JSON text for an object (empty: {}).
Show the result (or the error) pretty-printed in a buffer and return
the result."
  (interactive
   (list (completing-read "heapd method: " (heapd--method-names) nil nil)
         (read-string "Params (JSON object): " "{}")))
  (let* ((obj (if (stringp params) (heapd--parse-params params) params))
         (buf (get-buffer-create heapd--result-buffer-name))
         (result nil) (failure nil))
    (condition-case err
        (setq result (heapd-request method obj))
      (heapd-error (setq failure err)))
    (with-current-buffer buf
      (unless (derived-mode-p 'heapd-result-mode) (heapd-result-mode))
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "// %s %s\n" method (heapd--json obj)))
        (if failure
            (insert (if (heapd-error-code failure)
                        (format "// error %s: %s\n" (heapd-error-code failure)
                                (heapd-error-message failure))
                      (format "// error: %s\n" (heapd-error-message failure)))
                    (if (heapd-error-data failure)
                        (concat (heapd--json-pretty (heapd-error-data failure)) "\n")
                      ""))
          (insert (heapd--json-pretty result) "\n"))
        (goto-char (point-min))))
    (display-buffer buf)
    (if failure
        (message "heapd: %s: %s" method (heapd--error-string failure))
      (message "heapd: %s: %s" method (heapd--truncate (heapd--json result) 120)))
    result))

;;;; Key map

;;;###autoload
(defvar heapd-command-map
  (let ((map (make-sparse-keymap)))
    (define-key map "o" #'heapd-connect)
    (define-key map "q" #'heapd-disconnect)
    (define-key map "s" #'heapd-stats)
    (define-key map "i" #'heapd-inspect)
    (define-key map "r" #'heapd-referrers)
    (define-key map "g" #'heapd-graph)
    (define-key map "w" #'heapd-why)
    (define-key map "d" #'heapd-retained)
    (define-key map "c" #'heapd-collect)
    (define-key map "x" #'heapd-call)
    (define-key map "a" #'heapd-allocate)
    (define-key map "f" #'heapd-set-field)
    (define-key map "+" #'heapd-ref)
    (define-key map "-" #'heapd-unref)
    map)
  "Keymap of heapd commands, for binding to a prefix key.")
;;;###autoload
(fset 'heapd-command-map heapd-command-map)

(provide 'heapd)
;;; heapd.el ends here
