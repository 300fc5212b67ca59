package dovecot

import (
	"fmt"
	"path/filepath"
	"strings"
)

// config is the whole dovecot.conf of a server in dir listening on port as
// id, greeting clients with greeting, with the passdbs o asks for. Nothing
// is included from /etc/dovecot.
func config(dir string, port int, id identity, greeting string, o Options) (string, error) {
	if strings.ContainsAny(dir, " \t\r\n\"'\\%$") {
		return "", fmt.Errorf("dovecot: directory %q has characters dovecot.conf cannot hold", dir)
	}
	mechanisms, passdbs := "plain login", ""
	if o.OAuth2IntrospectionURL != "" {
		mechanisms = "plain login xoauth2 oauthbearer"
		passdbs = fmt.Sprintf(`passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %s
}
`, filepath.Join(dir, oauth2ConfName))
	}
	// A uid below first_valid_uid cannot log in; 500 is the recipe's floor,
	// lowered for a caller whose own uid is smaller.
	firstUID := min(id.uid, 500)
	return fmt.Sprintf(`# Written by postdesk's internal/dovecot for one test run.
protocols = imap
listen = 127.0.0.1
instance_name = postdesk-test-%[5]d
base_dir = %[1]s
state_dir = %[2]s
log_path = %[3]s
info_log_path = %[3]s
debug_log_path = %[3]s
# Tells this server's greeting from any other's on the same port.
login_greeting = %[12]s

# Unprivileged: every process runs as the one user that started the master.
default_internal_user = %[6]s
default_internal_group = %[7]s
default_login_user = %[6]s
first_valid_uid = %[8]d
last_valid_uid = 0

# Loopback only: no TLS, plain-text passwords allowed.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = %[13]s
auth_failure_delay = 0

passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN %[9]s
}
%[14]suserdb {
  driver = static
  args = uid=%[10]d gid=%[11]d home=%[4]s/%%u
}
mail_location = maildir:~/Maildir
# inotify wakes IDLE at once; this is the fallback where it is missing.
mailbox_idle_check_interval = 1 secs

protocol imap {
  mail_max_userip_connections = 100
}

# Empty chroots: an unprivileged master cannot chroot.
service anvil {
  chroot =
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[5]d
  }
  # port = 0 disables a listener.
  inet_listener imaps {
    port = 0
  }
}
`,
		filepath.Join(dir, "run"), filepath.Join(dir, "state"), filepath.Join(dir, "dovecot.log"),
		filepath.Join(dir, "home"), port, id.name, id.group, firstUID,
		filepath.Join(dir, "passwd"), id.uid, id.gid, greeting, mechanisms, passdbs), nil
}

// oauth2ConfName is the file of the oauth2 passdb's settings, in the
// server's directory.
const oauth2ConfName = "dovecot-oauth2.conf.ext"

// oauth2Config is that file: tokens are checked by POSTing them to url
// (RFC 7662 introspection), which answers {"active": true, "username":
// USER} for a good one.
func oauth2Config(url string) (string, error) {
	if strings.ContainsAny(url, " \t\r\n\"'\\%$") {
		return "", fmt.Errorf("dovecot: introspection URL %q has characters dovecot.conf cannot hold", url)
	}
	return fmt.Sprintf(`# Written by postdesk's internal/dovecot for one test run.
introspection_mode = post
introspection_url = %s
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`, url), nil
}
