package notify

import "time"

// SetIdleTime shortens how long m keeps an idle session, for tests.
func SetIdleTime(m *Mailer, d time.Duration) { m.idleFor = d }
