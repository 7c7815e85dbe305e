# The Manasvi sandbox launcher: puts one tool process in new user, mount, PID, IPC and UTS
# namespaces (and network, with --net) over a file system holding only what it is given.
#
#   perl sandbox-launcher.pl ARCH [--net [--bridge SOCKET ADDR:PORT [--dns]]] [--probe]
#                            [--exec|--etc|--ro|--rw PATH]... -- PROGRAM ARGS...
#
# DENO_DIR names an empty folder of this launch; the new root is a tmpfs mounted over it.
# Three processes: P (this one, the host's child) makes the namespaces and waits; C, pid 1
# inside, builds and enters the root, drops every privilege and waits; G, its child, runs
# PROGRAM. G's exit (code or signal) becomes P's, so the host sees what it would without
# the launcher. The kernel kills C if P dies and, with C, everything inside.
#
# With --bridge, the empty network namespace gets one way out: the host's egress gateway,
# a Unix socket SOCKET on the host's file system. P then unshares in two steps: the user
# and network namespaces first, where it forks F, the forwarder; then mount, PID, IPC and
# UTS, and C as above. F is in the tool's network namespace but the host's mount and PID
# namespaces, so it can reach SOCKET by its path: it brings lo up, listens on ADDR:PORT
# (an IPv4 loopback address), drops every privilege as C does, takes the same seccomp
# filter, and copies each TCP connection to a connection of its own to SOCKET. With --dns
# it also answers DNS on 127.0.0.1:53 (C writes /etc/resolv.conf naming it): every query
# is REFUSED at once and reported to the gateway as a CONNECT to the name, with the
# credential of HTTP_PROXY. F dies with P, and P kills it before it exits.
#
# Perl, not util-linux: one process makes every mount, where `mount` would be one process
# per bind. Only core Perl (no modules: loading POSIX alone costs 10 ms a launch).
use strict;

my %SYS = (
  x86_64 => {
    nofollow => 0400000, audit_arch => 0xC000003E, unshare => 272, mount => 165, umount2 => 166, pivot_root => 155, prctl => 157,
    capset => 126, sethostname => 170, statfs => 137, clone => 56, clone3 => 435, socket => 41, rt_sigprocmask => 14, close => 3, close_range => 436,
    # Refused with EPERM inside: namespaces and mounts (nothing may be rebuilt or re-entered),
    # and kernel interfaces no tool needs that widen what a kernel bug could be reached by.
    deny => [
      272, 308, 165, 166, 155, 161, 428, 429, 430, 431, 432, 433, 442,    # unshare setns mount umount2 pivot_root chroot open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr
      321, 298, 323, 246, 320, 175, 313, 176, 250, 248, 249,              # bpf perf_event_open userfaultfd kexec_load kexec_file_load init_module finit_module delete_module keyctl add_key request_key
      101, 310, 311, 425, 426, 427, 304, 303,                              # ptrace process_vm_readv process_vm_writev io_uring_setup io_uring_enter io_uring_register open_by_handle_at name_to_handle_at
      172, 173, 167, 168, 169, 163, 179, 103, 153, 170, 171,              # iopl ioperm swapon swapoff reboot acct quotactl syslog vhangup sethostname setdomainname
      319, 447, 29, 68, 64,                                                # memfd_create memfd_secret shmget msgget semget: memory no RSS shows
    ],
    # x32 system calls (numbers with bit 30 set) bypass a filter written for x86_64 numbers.
    x32 => 0x40000000,
  },
  aarch64 => {
    nofollow => 0100000, audit_arch => 0xC00000B7, unshare => 97, mount => 40, umount2 => 39, pivot_root => 41, prctl => 167,
    capset => 91, sethostname => 161, statfs => 43, clone => 220, clone3 => 435, socket => 198, rt_sigprocmask => 135, close => 57, close_range => 436,
    deny => [
      97, 268, 40, 39, 41, 51, 428, 429, 430, 431, 432, 433, 442,
      280, 241, 282, 104, 294, 105, 273, 106, 219, 217, 218,
      117, 270, 271, 425, 426, 427, 265, 264,
      224, 225, 142, 89, 60, 116, 58, 161, 162,
      279, 447, 194, 186, 190,
    ],
  },
);
my $arch = shift @ARGV;
my $sys = $SYS{$arch} or fail('setup', "no syscall table for $arch");
my ($O_PATH, $O_CLOEXEC) = (010000000, 02000000);
my ($MS_RDONLY, $MS_NOSUID, $MS_NODEV, $MS_NOEXEC, $MS_REMOUNT, $MS_BIND, $MS_REC, $MS_PRIVATE) = (1, 2, 4, 8, 32, 4096, 16384, 1 << 18);
my ($MS_NOATIME, $MS_NODIRATIME, $MS_RELATIME) = (1024, 2048, 1 << 21);

my (@binds, $net, $probe, @bridge, $dns);
while (@ARGV) {
  my $arg = shift @ARGV;
  last if $arg eq '--';
  if ($arg eq '--net') { $net = 1 }
  elsif ($arg eq '--probe') { $probe = 1 }
  elsif ($arg eq '--bridge') { @bridge = (shift(@ARGV) // '', shift(@ARGV) // '') }
  elsif ($arg eq '--dns') { $dns = 1 }
  elsif ($arg =~ /^--(exec|ro|rw|etc)$/) { push @binds, [$1, shift @ARGV] }
  else { fail('setup', "unknown option $arg") }
}
my @program = @ARGV;
my $stage = $ENV{DENO_DIR};
fail('setup', 'no program and no staging folder') unless defined $stage && ($probe || @program);
fail('setup', '--dns needs --bridge: the DNS answers come from the forwarder') if $dns && !@bridge;
my $bridge = @bridge ? bridge_options(@bridge) : undef;

# The forwarder's pid, in P only: every way P ends (quit, fail, a re-raised signal) kills it first.
my $forwarder;
sub stop_forwarder { return unless $forwarder; kill 9, $forwarder; waitpid($forwarder, 0); $forwarder = undef }
sub quit { stop_forwarder(); exit $_[0] }
sub fail { my ($step, $why) = @_; print STDERR "manasvi-sandbox: $step: $why\n"; quit(125) }
sub call { my ($name, $step, @args) = @_; my $r = syscall($sys->{$name}, @args); fail($step, "$!") if $r == -1; $r }
sub write_file { my ($step, $file, $text) = @_; open(my $fh, '>', $file) or fail($step, "$file: $!"); print $fh $text or fail($step, "$file: $!"); close($fh) or fail($step, "$file: $!") }

# P: dies with the host; new namespaces, this user mapped to itself, then C.
call('prctl', 'pdeathsig', 1, 9, 0, 0, 0);
my $flags = 0x10000000 | 0x00020000 | 0x20000000 | 0x08000000 | 0x04000000;
$flags |= 0x40000000 if $net;
my ($uid, $gid) = ($<, (split ' ', $()[0]);
my @FORWARD = qw(TERM INT HUP QUIT USR1 USR2);
# The forwarded signals stay blocked (queued, not lost) until each process has its handler:
# pid 1 of a PID namespace drops a signal it has no handler for, so a TERM during setup
# would otherwise vanish and the tool run on.
my %SIGNUM = (HUP => 1, INT => 2, QUIT => 3, USR1 => 10, USR2 => 12, TERM => 15);
sub forwarded_signals { my ($how) = @_; my $set = 0; $set |= 1 << ($SIGNUM{$_} - 1) for @FORWARD; call('rt_sigprocmask', 'signal mask', $how, pack('Q', $set), 0, 8) }
if ($bridge) {
  # Two steps: F is forked in the new user and network namespaces but before the others.
  # After the PID unshare, P's next child is pid 1 of the tool's PID namespace, and after
  # the mount unshare it would see the mounts C is about to take apart; F needs the host's
  # file system, where SOCKET's path leads.
  call('unshare', 'unshare', 0x10000000 | 0x40000000);
  map_ids();
  # F keeps the forwarded signals blocked for good: a signal to the launcher's process
  # group reaches the tool through P and C, and must not cut the tool's network first.
  forwarded_signals(0);
  start_forwarder($bridge);
  call('unshare', 'unshare', $flags & ~(0x10000000 | 0x40000000));
} else {
  call('unshare', 'unshare', $flags);
  map_ids();
}
sub map_ids {
  write_file('id map', '/proc/self/setgroups', 'deny');
  write_file('id map', '/proc/self/uid_map', "$uid $uid 1");
  write_file('id map', '/proc/self/gid_map', "$gid $gid 1");
}
pipe(my $status_r, my $status_w) or fail('setup', "pipe: $!");
forwarded_signals(0);
my $init = fork() // fail('fork', "$!");
if ($init) {
  close $status_w;
  $SIG{$_} = eval "sub { kill '$_', $init }" for @FORWARD;
  forwarded_signals(1);
  waitpid($init, 0);
  my $own = $?;
  my $said = do { local $/; <$status_r> } // '';
  finish($said, $own);
}
close $status_r;
# F is P's to stop: a pid in C's own PID namespace names something else.
$forwarder = undef;
# C: dies with P; not dumpable, so the tool cannot read its memory or environment.
call('prctl', 'pdeathsig', 1, 9, 0, 0, 0);
call('prctl', 'dumpable', 4, 0, 0, 0, 0);

# C (pid 1): the root folder, built on a tmpfs over the staging folder, then entered.
call('mount', 'private mounts', 0, '/', 0, $MS_REC | $MS_PRIVATE, 0);
call('mount', 'root tmpfs', 'tmpfs', $stage, 'tmpfs', $MS_NOSUID | $MS_NODEV, 'size=1m,nr_inodes=4096,mode=0755');
# With --dns the tool's resolver asks F and only F: written on the fresh tmpfs before any
# bind, so it cannot land in a granted folder (bridge_options refuses a grant that would
# cover it, and the host's own resolv.conf is not bound).
if ($bridge && $bridge->{dns}) {
  make_path("$stage/etc");
  write_file('resolv.conf', "$stage/etc/resolv.conf", "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n");
}
# Private /tmp and /dev first, so grants inside them are bound over; proc and Deno's own
# folder last, so no grant hides them. Every tmpfs is small: its pages are memory the
# host's RSS watch does not see (only with Deno's flags gone can a tool write /tmp at all;
# /deno holds what localStorage and the Cache API keep).
for my $dir (qw(/dev /proc /tmp /deno)) { make_path("$stage$dir") }
call('mount', 'tmp tmpfs', 'tmpfs', "$stage/tmp", 'tmpfs', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC, 'size=1m,nr_inodes=1024,mode=0700');
call('mount', 'dev tmpfs', 'tmpfs', "$stage/dev", 'tmpfs', $MS_NOSUID | $MS_NOEXEC, 'size=64k,nr_inodes=64,mode=0755');
bind_into($stage, 'dev', "/dev/$_") for qw(null zero random urandom);
# The grants before Deno's own files, so a grant above them (a read grant of /usr) cannot
# cover the binary or a library with a noexec (or writable) bind.
my $system = sub { $_[0][0] eq 'exec' || $_[0][0] eq 'etc' };
for my $bind (grep { !$system->($_) } @binds) { bind_into($stage, $bind->[0], $bind->[1]) }
for my $bind (grep { $system->($_) } @binds) {
  next if $bridge && $bridge->{dns} && $bind->[0] eq 'etc' && $bind->[1] eq '/etc/resolv.conf';
  bind_into($stage, $bind->[0], follow_links($stage, $bind->[1]));
}
# /dev read-only once the grants inside it (if any) have their mount points.
call('mount', 'read-only dev', 0, "$stage/dev", 0, $MS_REMOUNT | $MS_RDONLY | $MS_NOSUID | $MS_NOEXEC, 0);
call('mount', 'proc', 'proc', "$stage/proc", 'proc', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC, 'subset=pid');
call('mount', 'deno tmpfs', 'tmpfs', "$stage/deno", 'tmpfs', $MS_NOSUID | $MS_NODEV | $MS_NOEXEC, 'size=16m,nr_inodes=4096,mode=0700');
chdir($stage) or fail('pivot', "$!");
call('pivot_root', 'pivot', '.', '.');
call('umount2', 'old root', '.', 2);
chdir('/') or fail('pivot', "$!");
call('mount', 'read-only root', 0, '/', 0, $MS_REMOUNT | $MS_BIND | $MS_RDONLY | $MS_NOSUID | $MS_NODEV, 0);
call('sethostname', 'hostname', 'sandbox', 7);
for my $cache (qw(dep_analysis_cache_v2 node_analysis_cache_v2)) { mkdir("/deno/$cache", 0500) or fail('deno dir', "$cache: $!") }
drop_privileges();

my $filter = seccomp_filter();
if ($probe) { install_seccomp($filter); quit(0) }

my $tool = fork() // fail('fork', "$!");
if (!$tool) {
  $ENV{DENO_DIR} = '/deno';
  close_inherited_fds();
  forwarded_signals(1);
  install_seccomp($filter);
  exec { $program[0] } @program or fail('exec', "$program[0]: $!");
}
$SIG{$_} = eval "sub { kill '$_', $tool }" for @FORWARD;
forwarded_signals(1);
while (1) {
  my $gone = waitpid(-1, 0);
  last if $gone == -1;
  next if $gone != $tool;
  my $st = $?;
  print $status_w ($st & 127) ? 'signal ' . ($st & 127) : 'exit ' . ($st >> 8);
  close $status_w;
  quit(0);
}
quit(125);

sub finish {
  my ($said, $own) = @_;
  stop_forwarder();
  if ($said =~ /^exit (\d+)$/) { quit($1) }
  my $signal = $said =~ /^signal (\d+)$/ ? $1 : ($own & 127);
  if ($signal) {
    $SIG{$_} = 'DEFAULT' for keys %SIG;
    kill $signal, $$;
    quit(128 + $signal);
  }
  quit($own >> 8);
}

# The real path of a system file (the Deno binary, a library), each link met on the way
# made again under ROOT, so the file is found inside by the name it is known by outside.
sub follow_links {
  my ($root, $path) = @_;
  my @todo = grep { length } split m{/}, $path;
  my $at = '';
  for (my $hops = 0; @todo; ) {
    my $part = shift @todo;
    next if $part eq '.';
    if ($part eq '..') { $at =~ s{/[^/]*$}{}; next }
    my $next = "$at/$part";
    if (-l $next) {
      fail('bind', "$path: too many links") if ++$hops > 40;
      my $link = readlink($next) // fail('bind', "$next: $!");
      make_path("$root$at");
      symlink($link, "$root$next") or fail('link', "$next: $!") unless -l "$root$next";
      unshift @todo, grep { length } split m{/}, $link;
      $at = '' if $link =~ m{^/};
      next;
    }
    $at = $next;
  }
  return $at;
}

sub make_path {
  my ($path) = @_;
  my $at = '';
  for my $part (grep { length } split m{/}, $path) {
    $at .= "/$part";
    next if -d $at;
    mkdir($at, 0755) or fail('mount point', "$at: $!");
  }
}

# Binds PATH at the same path under ROOT, opened without following a link at any step, so
# a link swapped in after the host's checks is refused rather than followed.
sub bind_into {
  my ($root, $kind, $path) = @_;
  my $fh;
  if (!sysopen($fh, $path, $O_PATH | $sys->{nofollow} | $O_CLOEXEC)) {
    return if $kind eq 'ro' || $kind eq 'rw' || $kind eq 'etc';
    fail('bind', "$path: $!");
  }
  my @st = stat($fh);
  fail('bind', "$path is a link") if @st && ($st[2] & 0170000) == 0120000;
  my $handle = '/proc/self/fd/' . fileno($fh);
  my $real = readlink($handle) // fail('bind', "$path: $!");
  fail('bind', "$path resolves to $real: a link on the way") if $real ne $path;
  my $target = "$root$path";
  if (-d $handle) { make_path($target) }
  else {
    (my $parent = $target) =~ s{/[^/]+$}{};
    make_path($parent);
    if (!-e $target) { sysopen(my $new, $target, 01 | 0100 | 0200, 0644) or fail('mount point', "$target: $!"); close $new }
  }
  call('mount', "bind $path", $handle, $target, 0, $MS_BIND, 0);
  my $want = $MS_BIND | $MS_REMOUNT | $MS_NOSUID;
  $want |= $MS_NODEV unless $kind eq 'dev';
  $want |= $MS_NOEXEC unless $kind eq 'exec';
  $want |= $MS_RDONLY unless $kind eq 'rw' || $kind eq 'dev';
  my $r = syscall($sys->{mount}, 0, $target, 0, $want | locked_flags($target), 0);
  fail("remount $path", "$!") if $r == -1;
  close $fh;
}

# A bind in a user namespace keeps the flags the kernel locked on its source mount; naming
# them again is what lets the remount through.
sub locked_flags {
  my ($target) = @_;
  my $buf = "\0" x 120;
  return 0 if syscall($sys->{statfs}, $target, $buf) == -1;
  my $st = unpack('Q', substr($buf, 80, 8));
  my $ms = 0;
  $ms |= $MS_RDONLY if $st & 1;
  $ms |= $MS_NOSUID if $st & 2;
  $ms |= $MS_NODEV if $st & 4;
  $ms |= $MS_NOEXEC if $st & 8;
  $ms |= $MS_NOATIME if $st & 1024;
  $ms |= $MS_NODIRATIME if $st & 2048;
  $ms |= $MS_RELATIME if $st & 4096;
  return $ms;
}

# The seccomp filter (classic BPF over struct seccomp_data): another architecture's calls
# kill the process; the denied calls, a socket of another family and clone with a
# namespace flag fail with EPERM;
# clone3, whose flags a filter cannot read, fails with ENOSYS so libc falls back to clone.
sub seccomp_filter {
  my ($LD, $JEQ, $JGE, $JSET, $RET) = (0x20, 0x15, 0x35, 0x45, 0x06);
  my ($KILL, $ALLOW, $ERRNO) = (0x80000000, 0x7fff0000, 0x00050000);
  my $NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
  my @ins = ([$LD, 4], [$JEQ, $sys->{audit_arch}, 'arch', 'kill'], ['label', 'arch'], [$LD, 0]);
  push @ins, [$JGE, $sys->{x32}, 'eperm', 'next'], ['label', 'next'] if $sys->{x32};
  for my $nr (@{ $sys->{deny} }) { push @ins, [$JEQ, $nr, 'eperm', "after$nr"], ['label', "after$nr"] }
  # Sockets of the families Deno uses only (Unix, IPv4, IPv6, netlink for libc's interface
  # lookups): no vsock to a hypervisor, no AF_ALG, AF_PACKET, AF_KEY, Bluetooth or XDP.
  push @ins, [$JEQ, $sys->{socket}, 'socket', 'c3test'], ['label', 'socket'], [$LD, 16];
  for my $family (1, 2, 10) { push @ins, [$JEQ, $family, 'allow', "f$family"], ['label', "f$family"] }
  push @ins, [$JEQ, 16, 'allow', 'eperm'], ['label', 'c3test'];
  push @ins, [$JEQ, $sys->{clone3}, 'enosys', 'c3'], ['label', 'c3'], [$JEQ, $sys->{clone}, 'clone', 'allow'], ['label', 'clone'];
  push @ins, [$LD, 16], [$JSET, $NAMESPACES, 'eperm', 'allow'];
  push @ins, ['label', 'allow'], [$RET, $ALLOW], ['label', 'eperm'], [$RET, $ERRNO | 1], ['label', 'enosys'], [$RET, $ERRNO | 38], ['label', 'kill'], [$RET, $KILL];
  my (%at, $n);
  $n = 0;
  for my $i (@ins) { if ($i->[0] eq 'label') { $at{ $i->[1] } = $n } else { $n++ } }
  my ($prog, $pc) = ('', 0);
  for my $i (@ins) {
    next if $i->[0] eq 'label';
    my ($jt, $jf) = map { defined $_ ? $at{$_} - $pc - 1 : 0 } @$i[2, 3];
    fail('seccomp', 'jump out of range') if $jt < 0 || $jf < 0 || $jt > 255 || $jf > 255;
    $prog .= pack('SCCL', $i->[0], $jt, $jf, $i->[1]);
    $pc++;
  }
  return $prog;
}

# Every descriptor but stdin, stdout, stderr and KEEP closed before the tool (or F) starts:
# one the host inherited without close-on-exec (Node passes those on to every child) would
# otherwise reach inside, and a directory's descriptor opens the host's whole tree
# (/proc/self/fd/N/…).
sub close_inherited_fds {
  my %keep = map { $_ => 1 } @_;
  my ($from, $ok) = (3, 1);
  for my $fd (sort { $a <=> $b } grep { $_ > 2 } keys %keep) {
    $ok &&= syscall($sys->{close_range}, $from, $fd - 1, 0) == 0 if $fd > $from;
    $from = $fd + 1;
  }
  return if $ok && syscall($sys->{close_range}, $from, 0xFFFFFFFF, 0) == 0;
  opendir(my $dh, '/proc/self/fd') or fail('close fds', "$!");
  my @open = grep { /^\d+$/ && $_ > 2 && !$keep{$_} } readdir($dh);
  closedir($dh);
  syscall($sys->{close}, $_ + 0) for @open;
}

# Installs the filter (no_new_privs is set already); it outlives exec.
sub install_seccomp {
  my ($prog) = @_;
  my $fprog = pack('S x6 P', length($prog) / 8, $prog);
  call('prctl', 'seccomp', 22, 2, $fprog, 0, 0);
}

# No capability survives into the tool: none in the bounding, ambient, inheritable,
# permitted or effective sets, root gains none at exec, and no exec can grant any.
sub drop_privileges {
  for my $cap (0 .. 63) { last if syscall($sys->{prctl}, 24, $cap, 0, 0, 0) == -1 }
  call('prctl', 'ambient caps', 47, 4, 0, 0, 0);
  call('prctl', 'securebits', 28, 0xEB, 0, 0, 0);
  call('capset', 'capabilities', pack('LL', 0x20080522, 0), pack('L6', 0, 0, 0, 0, 0, 0));
  call('prctl', 'no_new_privs', 38, 1, 0, 0, 0);
}

# --bridge SOCKET ADDR:PORT and --dns, checked before anything is made: SOCKET an absolute
# path that fits a sockaddr_un, ADDR an IPv4 loopback address, PORT 1-65535; with --dns,
# the gateway's credential from HTTP_PROXY (http://user:pass@host:port) and no grant that
# would hide the sandbox's own /etc/resolv.conf.
sub bridge_options {
  my ($socket, $listen) = @_;
  fail('setup', '--bridge needs --net: the bridge is the one way out of an empty network namespace') unless $net;
  fail('setup', "--bridge $socket: SOCKET must be an absolute path of at most 107 bytes") unless $socket =~ m{^/[^\0]*\z} && length($socket) <= 107;
  my $octet = qr/(?:0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])/;
  my ($addr, $port) = $listen =~ /^(127\.$octet\.$octet\.$octet):([1-9][0-9]{0,4})\z/;
  fail('setup', "--bridge $socket $listen: ADDR:PORT must be an IPv4 loopback address (127.x.y.z) and a port 1-65535") unless $addr && $port <= 65535;
  my %bridge = (socket => $socket, listen => $listen, addr => pack('C4', split /\./, $addr), port => $port, dns => $dns);
  if ($dns) {
    my ($user, $pass) = ($ENV{HTTP_PROXY} // '') =~ m{^http://([^:@/]*):([^@/]*)@[^@/]+/?\z};
    fail('setup', '--dns reports each query to the gateway with the credential of HTTP_PROXY, which must be http://user:pass@host:port') unless defined $pass;
    s/%([0-9A-Fa-f]{2})/chr hex $1/ge for $user, $pass;
    $bridge{auth} = base64("$user:$pass");
    for my $bind (grep { $_->[0] eq 'ro' || $_->[0] eq 'rw' } @binds) {
      fail('setup', "--dns: a grant of $bind->[1] would hide the sandbox's own /etc/resolv.conf") if $bind->[1] =~ m{^/(?:etc(?:/resolv\.conf)?)?\z};
    }
  }
  return \%bridge;
}

sub base64 {
  my ($bytes) = @_;
  my @digit = ('A' .. 'Z', 'a' .. 'z', 0 .. 9, '+', '/');
  my $text = join '', map { $digit[oct('0b' . substr($_ . '00000', 0, 6))] } unpack('B*', $bytes) =~ /(.{1,6})/g;
  return $text . '=' x ((3 - length($bytes) % 3) % 3);
}

# P: forks F and waits until it listens, so the tool never finds the port closed.
sub start_forwarder {
  my ($bridge) = @_;
  pipe(my $ready_r, my $ready_w) or fail('bridge', "pipe: $!");
  my $parent = $$;
  my $pid = fork() // fail('fork', "$!");
  if (!$pid) { close $ready_r; forwarder($bridge, $ready_w, $parent) }
  $forwarder = $pid;
  close $ready_w;
  my $said = '';
  sysread($ready_r, $said, 5);
  close $ready_r;
  fail('bridge', 'the forwarder did not start') unless $said eq 'ready';
}

# F: the tool's one way out. Everything it does after setup is copying bytes between
# sockets it made itself: no name is resolved, nothing but SOCKET is ever connected to.
sub PAIRS_MAX () { 256 }           # TCP connections at once; more are closed at accept
sub BUFFER_MAX () { 262144 }       # bytes waiting per direction: past it, that side is not read (at most a CHUNK over)
sub CHUNK () { 65536 }
sub REPORTS_MAX () { 16 }          # DNS reports in flight
sub REPORTS_PER_S () { 20 }
sub REPORT_WAIT_S () { 10 }        # a report the gateway does not answer is closed after this
sub EINTR () { 4 }
sub EAGAIN () { 11 }
sub ECONNABORTED () { 103 }
my ($tcp, $udp, $sun, %end, $pairs, $reports, $paused, $second, $this_second, $unreported);

sub forwarder {
  my ($bridge, $ready_w, $parent) = @_;
  call('prctl', 'pdeathsig', 1, 9, 0, 0, 0);
  exit 0 if getppid() != $parent;    # P died before the death signal was set
  call('prctl', 'dumpable', 4, 0, 0, 0, 0);
  $SIG{PIPE} = 'IGNORE';
  open(STDIN, '<', '/dev/null') or fail('bridge', "/dev/null: $!");
  open(STDOUT, '>', '/dev/null') or fail('bridge', "/dev/null: $!");
  close_inherited_fds(fileno $ready_w);
  # lo is down in a new network namespace; F holds CAP_NET_ADMIN in the user namespace
  # that owns it, until drop_privileges.
  socket(my $ctl, 2, 2, 0) or fail('bridge', "socket: $!");
  my $ifreq = pack('a16 s x22', 'lo', 0x1 | 0x40);
  ioctl($ctl, 0x8914, $ifreq) or fail('bridge', "lo up: $!");
  close $ctl;
  socket($tcp, 2, 1, 0) or fail('bridge', "socket: $!");
  setsockopt($tcp, 1, 2, 1) or fail('bridge', "SO_REUSEADDR: $!");
  bind($tcp, pack('S n a4 x8', 2, $bridge->{port}, $bridge->{addr})) or fail('bridge', "listen on $bridge->{listen}: $!");
  listen($tcp, 512) or fail('bridge', "listen on $bridge->{listen}: $!");
  nonblocking($tcp);
  if ($bridge->{dns}) {
    socket($udp, 2, 2, 0) or fail('bridge', "socket: $!");
    bind($udp, pack('S n C4 x8', 2, 53, 127, 0, 0, 1)) or fail('bridge', "DNS on 127.0.0.1:53: $!");
    nonblocking($udp);
  }
  drop_privileges();
  install_seccomp(seccomp_filter());
  $sun = pack('S Z*', 1, $bridge->{socket});
  ($pairs, $reports, $paused, $second, $this_second, $unreported) = (0, 0, 0, 0, 0, 0);
  syswrite($ready_w, 'ready');
  close $ready_w;
  forward($bridge);
}

sub nonblocking { fcntl($_[0], 4, 04000) or fail('bridge', "O_NONBLOCK: $!") }

# One select loop over every socket. An end is one socket: `out` holds the bytes waiting to
# be written to it, `eof` says its reading side has ended, `shut` that its writing side was
# shut down (all of `out` written after the peer's eof). A pair is closed once both ends
# are shut, or at the first error on either. A report (DNS) is an end with no peer.
sub forward {
  my ($bridge) = @_;
  while (1) {
    my ($rin, $win) = ('', '');
    vec($rin, fileno $tcp, 1) = 1 unless $paused;
    vec($rin, fileno $udp, 1) = 1 if $udp;
    for my $e (values %end) {
      vec($rin, $e->{fd}, 1) = 1 if !$e->{eof} && (!$e->{peer} || length($e->{peer}{out}) < BUFFER_MAX);
      vec($win, $e->{fd}, 1) = 1 if length $e->{out};
    }
    my $found = select(my $rout = $rin, my $wout = $win, undef, $reports || $paused ? 1 : undef);
    if ($found < 0) { next if $! == EINTR; fail('bridge', "select: $!") }
    $paused = 0;
    if ($reports) { my $now = time; close_end($_) for grep { $_->{report} && $_->{report} < $now } values %end }
    # The ends first: a pair closing now frees its place, and every socket made below is
    # new, so no readiness bit above is taken for it.
    for my $fd (keys %end) {
      my $e = $end{$fd};
      take($e) if $e && vec($rout, $fd, 1);
      $e = $end{$fd};
      give($e) if $e && vec($wout, $fd, 1);
    }
    accept_all() if vec($rout, fileno $tcp, 1);
    answer_queries($bridge) if $udp && vec($rout, fileno $udp, 1);
  }
}

sub accept_all {
  for (1 .. 64) {
    my $client;
    if (!accept($client, $tcp)) {
      # Out of descriptors (or memory): wait for a pair to close rather than spin.
      $paused = 1 unless $! == EAGAIN || $! == EINTR || $! == ECONNABORTED;
      return;
    }
    if ($pairs >= PAIRS_MAX) { close $client; next }
    my $up = gateway() or do { close $client; next };
    nonblocking($client);
    setsockopt($client, 6, 1, 1);    # TCP_NODELAY: F only relays, the client chose its own
    my $c = { fh => $client, fd => fileno $client, out => '' };
    my $u = { fh => $up, fd => fileno $up, out => '', peer => $c };
    $c->{peer} = $u;
    @end{ $c->{fd}, $u->{fd} } = ($c, $u);
    $pairs++;
  }
}

# A new connection to SOCKET, or nothing: a full backlog counts as a failure, nothing waits.
sub gateway {
  socket(my $up, 1, 1, 0) or return;
  nonblocking($up);
  connect($up, $sun) or return;
  return $up;
}

# Reads what an end sent into its peer's `out` (bounded by the select above) and passes it on.
sub take {
  my ($e) = @_;
  my $to = $e->{peer};
  if (!$to) {
    my $got = sysread($e->{fh}, my $heard, 4096);
    return if !defined $got && ($! == EAGAIN || $! == EINTR);
    $e->{heard} .= $heard if $got;
    # The gateway's answer is not needed: close once its head (or the connection) ends.
    close_end($e) if !$got || index($e->{heard}, "\r\n\r\n") >= 0 || length($e->{heard}) > 16384;
    return;
  }
  # A few chunks a wake-up while the socket has them: fewer trips through select.
  for (1 .. BUFFER_MAX / CHUNK) {
    my $got = sysread($e->{fh}, $to->{out}, CHUNK, length $to->{out});
    if (!defined $got) { last if $! == EAGAIN || $! == EINTR; return close_end($e) }
    if ($got == 0) { $e->{eof} = 1; last }
    last if $got < CHUNK || length($to->{out}) >= BUFFER_MAX;
  }
  give($to);
}

# Writes what waits for an end; once all is written after its peer's eof, shuts it down.
sub give {
  my ($e) = @_;
  if (length $e->{out}) {
    my $put = syswrite($e->{fh}, $e->{out});
    if (!defined $put) { return if $! == EAGAIN || $! == EINTR; return close_end($e) }
    substr($e->{out}, 0, $put, '');
    return if length $e->{out};
  }
  my $from = $e->{peer} or return;
  if ($from->{eof} && !$e->{shut}) { shutdown($e->{fh}, 1); $e->{shut} = 1 }
  close_end($e) if $e->{shut} && $from->{shut};
}

# Closes an end and its peer.
sub close_end {
  my ($e) = @_;
  my $peer = delete $e->{peer};
  for my $x ($e, $peer // ()) {
    delete $x->{peer};
    delete $end{ $x->{fd} };
    close $x->{fh};
  }
  $pairs-- if $peer;
  $reports-- if $e->{report};
}

# --dns: every query answered REFUSED at once, then reported to the gateway.
sub answer_queries {
  my ($bridge) = @_;
  for (1 .. 64) {
    my $from = recv($udp, my $query, 4096, 0);
    return unless defined $from;
    my ($reply, $name, $type) = refusal($query) or next;
    send($udp, $reply, 0, $from);
    report($bridge, $name, $type) if length $name;
  }
}

# The REFUSED answer to one well-formed query (same id, QR set, the question echoed, no
# records), its name made printable and its type; nothing for anything malformed.
sub refusal {
  my ($query) = @_;
  my $size = length $query;
  return if $size < 17;
  my ($id, $flags, $questions) = unpack('n n n', $query);
  return if $flags & 0x8000 || $questions != 1;
  my ($at, @labels) = (12);
  while (1) {
    return if $at >= $size;
    my $len = ord substr($query, $at++, 1);
    last if $len == 0;
    return if $len > 63 || $at + $len > $size || $at + $len - 12 > 254;
    push @labels, substr($query, $at, $len);
    $at += $len;
  }
  return if $at + 4 > $size;
  my $type = unpack('n', substr($query, $at, 2));
  my $reply = pack('n6', $id, 0x8000 | ($flags & 0x7900) | 5, 1, 0, 0, 0) . substr($query, 12, $at + 4 - 12);
  for (@labels) { tr/A-Z/a-z/; s/([^a-z0-9_-])/sprintf('%%%02X', ord $1)/ge }
  return ($reply, join('.', @labels), $type);
}

# At most REPORTS_PER_S a second and REPORTS_MAX at once; the rest are only counted.
sub report {
  my ($bridge, $name, $type) = @_;
  my $now = time;
  ($second, $this_second) = ($now, 0) if $now != $second;
  if ($this_second >= REPORTS_PER_S || $reports >= REPORTS_MAX) { $unreported++; return }
  $this_second++;
  my $up = gateway() or return;
  my $e = { fh => $up, fd => fileno $up, report => $now + REPORT_WAIT_S, heard => '',
    out => "CONNECT $name:53 HTTP/1.1\r\nHost: $name:53\r\nProxy-Authorization: Basic $bridge->{auth}\r\nX-Manasvi-Dns: $type\r\n\r\n" };
  $end{ $e->{fd} } = $e;
  $reports++;
  give($e);
}
