package Race::Engine::FerretDB;

# FerretDB 1.x on its SQLite backend: a MongoDB wire-protocol server for the
# tests, built once into the cache by t/engines/ferretdb-install.sh.
# Loopback only, no auth, no telemetry, no debug HTTP listener; restartable
# on the same port with the same data.
#
# SQLite's synchronous is NORMAL (FerretDB passes the URL's _pragma to its
# driver; it sets journal_mode WAL itself): a commit is not fsync()ed,
# only a checkpoint is.  With FULL, SQLite's default, every transaction
# (FerretDB makes one per 100 documents of an insert) waited on an
# fsync() of the WAL, 9 to 85 ms on this disk while Kafka writes to it,
# under SQLite's one write lock: race-tracker's batches queued behind
# them and the bench measured that, not the pipeline.  A test engine
# loses nothing to a killed FerretDB this way (the WAL is in the page
# cache); only a machine crash could lose the last commits.

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

my $OP_MSG = 2013;

sub start {
    my ($t, %opt) = @_;

    my $f = $t->{ferretdb} ||= {
        port  => $t->port,
        dir   => $t->dir . '/ferretdb',
        state => $t->dir . '/ferretdb-state',
    };
    make_path($f->{dir}, $f->{state});

    my $bin = binary($t);

    $t->spawn(name => 'ferretdb', argv => [$bin,
        '--handler=sqlite',
        "--sqlite-url=file:$f->{dir}/?_pragma=synchronous(NORMAL)",
        "--listen-addr=127.0.0.1:$f->{port}",
        '--debug-addr=-', '--telemetry=disable',
        "--state-dir=$f->{state}",
        '--log-level=' . ($opt{log_level} || 'warn'),
        @{$opt{args} || []}],
        env => { DO_NOT_TRACK => 1 });

    my $end = time + ($opt{timeout} || 30);
    while (time < $end) {
        return "mongodb://127.0.0.1:$f->{port}/" if ping($f->{port});
        last unless $t->running('ferretdb');
        sleep 0.1;
    }

    die "ferretdb did not answer on 127.0.0.1:$f->{port}:\n" . log_tail($t);
}

sub stop {
    my ($t) = @_;
    $t->stop('ferretdb');
}

# the binary: RACE_FERRETDB, or the cached build (made now if missing)
sub binary {
    my ($t) = @_;

    my $bin = $ENV{RACE_FERRETDB};
    if ($bin) {
        die "RACE_FERRETDB=$bin is not executable\n" unless -x $bin;
        return $bin;
    }

    my $script = $t->root . '/t/engines/ferretdb-install.sh';
    open my $fh, '-|', $script, $t->cache
        or die "cannot run $script: $!\n";
    my @out = <$fh>;
    close $fh;
    die "$script failed (exit " . ($? >> 8) . ")\n" if $?;

    $bin = $out[-1] // '';
    chomp $bin;
    die "$script printed no usable binary path\n" unless -x $bin;
    return $bin;
}

sub log_tail {
    my ($t, $lines) = @_;
    my @log = split /\n/, $t->read_file('ferretdb.log');
    splice @log, 0, @log - ($lines || 40) if @log > ($lines || 40);
    return join("\n", @log) . "\n";
}

# a real round trip: OP_MSG { ping: 1, $db: "admin" } answered with ok: 1
sub ping {
    my ($port) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 2) or return 0;

    my $doc = bson_doc("\x10ping\0" . pack('l<', 1)
        . "\x02\$db\0" . pack('l<', 6) . "admin\0");
    my $body = pack('L<', 0) . "\0" . $doc;
    my $msg = pack('l<4', 16 + length $body, 1, 0, $OP_MSG) . $body;

    my $sent = syswrite($s, $msg);
    return 0 unless defined $sent && $sent == length $msg;

    my $end = time + 2;
    my $head = read_n($s, 16, $end) // return 0;
    my ($len, undef, $to, $op) = unpack('l<4', $head);
    return 0 unless $op == $OP_MSG && $to == 1 && $len > 21 && $len < 65536;

    my $reply = read_n($s, $len - 16, $end) // return 0;
    close $s;

    # flags, section kind 0, then the document: look for ok: 1.0
    return 0 unless substr($reply, 4, 1) eq "\0";
    my $i = index($reply, "\x01ok\0");
    return 0 if $i < 0 || $i + 12 > length $reply;
    return unpack('d<', substr($reply, $i + 4, 8)) == 1;
}

sub bson_doc {
    my ($elements) = @_;
    return pack('l<', 4 + length($elements) + 1) . $elements . "\0";
}

sub read_n {
    my ($s, $n, $end) = @_;

    my $buf = '';
    my $sel = IO::Select->new($s);

    while (length $buf < $n) {
        my $left = $end - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        my $got = sysread($s, $buf, $n - length $buf, length $buf);
        return undef unless $got;
    }

    return $buf;
}

1;
