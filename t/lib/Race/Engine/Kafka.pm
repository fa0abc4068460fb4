package Race::Engine::Kafka;

# A real Apache Kafka broker, one node in KRaft mode (broker and controller
# in one JVM), on two free loopback ports, its data in the test folder.
# The jars come from t/engines/kafka-install.sh (instant once installed).
#
# Restartable: start() after stop() brings the same broker back on the same
# ports with the same data directory and cluster id.
#
# Options: partitions => N (num.partitions for auto-created topics, default
# 3), props => { name => value } (more server.properties lines), jvm => [...]
# (JVM flags instead of the defaults), timeout => seconds (default 60).
# They count at the first start of a test; a restart reuses them.
# $t->{kafka} keeps ports, folders and, in {started}, the seconds the last
# start took.
# RACE_KAFKA_LIBS names a libs folder to use instead of installing one.

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);

our $VERSION = '3.9.1';

my $STARTED = 'Kafka Server started';

# The broker runs C1-compiled only with the serial collector: it starts in
# about half the time and CPU of the defaults, which matters on two cores;
# a test broker never gets hot enough for C2 to pay off.
my @JVM = qw(-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -XX:-UsePerfData -Djava.awt.headless=true);

sub start {
    my ($t, %opt) = @_;

    my $k = $t->{kafka} ||= init($t, %opt);

    if ($t->{procs}{kafka}) {
        return "127.0.0.1:$k->{port}" if $t->running('kafka');
        $t->forget('kafka');
    }

    format_storage($t, $k) unless -e "$k->{data}/meta.properties";

    # the harness appends to kafka.log: look only at what this run writes
    my $log = $t->dir . '/kafka.log';
    my $from = -s $log || 0;

    $t->spawn(name => 'kafka', cwd => $k->{dir},
        argv => [java(), @{$k->{jvm}},
            "-Dlog4j.configuration=file:$k->{dir}/log4j.properties",
            '-cp', "$k->{libs}/*", 'kafka.Kafka',
            "$k->{dir}/server.properties"]);

    my $start = time;
    my $end = $start + $k->{timeout};

    while (time < $end) {
        if (!$t->running('kafka')) {
            $t->forget('kafka');
            die "kafka exited during start-up:\n" . tail($t, $log, $from);
        }

        # "started" is logged once the broker is unfenced; metadata then
        # proves it answers requests on the advertised address
        if (index(substr($t->read_file($log), $from), $STARTED) >= 0
            && grep { $_ eq "127.0.0.1:$k->{port}" } metadata($k->{port}))
        {
            $k->{started} = time - $start;
            return "127.0.0.1:$k->{port}";
        }

        sleep 0.1;
    }

    $t->stop('kafka');
    die "kafka did not serve metadata on 127.0.0.1:$k->{port} within "
        . "$k->{timeout}s:\n" . tail($t, $log, $from);
}

sub stop {
    my ($t) = @_;
    # TERM: a controlled shutdown, so the next start finds clean logs
    $t->stop('kafka', grace => 30);
}

# "127.0.0.1:PORT" of the broker started (or last started) in this test
sub bootstrap {
    my ($t) = @_;
    my $k = $t->{kafka} or die "kafka was never started\n";
    return "127.0.0.1:$k->{port}";
}

# running() has reaped a broker that died: drop it from the harness's
# books so that stop() does not wait for it
sub init {
    my ($t, %opt) = @_;

    my $dir = $t->dir . '/kafka';
    my $k = {
        port    => $t->port,
        cport   => $t->port,
        dir     => $dir,
        data    => "$dir/data",
        libs    => libs($t),
        jvm     => $opt{jvm} || [@JVM],
        timeout => $opt{timeout} || 60,
        cluster => cluster_id(),
    };

    make_path($k->{data});

    my %props = (
        'process.roles'                  => 'broker,controller',
        'node.id'                        => 1,
        'controller.quorum.voters'       => "1\@127.0.0.1:$k->{cport}",
        'listeners'                      => "PLAINTEXT://127.0.0.1:$k->{port}"
                                            . ",CONTROLLER://127.0.0.1:"
                                            . $k->{cport},
        'advertised.listeners'           => "PLAINTEXT://127.0.0.1:$k->{port}",
        'controller.listener.names'      => 'CONTROLLER',
        'inter.broker.listener.name'     => 'PLAINTEXT',
        'listener.security.protocol.map' =>
            'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'log.dirs'                       => $k->{data},

        'num.partitions'                 => $opt{partitions} || 3,
        'auto.create.topics.enable'      => 'true',
        'default.replication.factor'     => 1,
        'min.insync.replicas'            => 1,
        'offsets.topic.replication.factor'         => 1,
        'transaction.state.log.replication.factor' => 1,
        'transaction.state.log.min.isr'            => 1,
        'group.initial.rebalance.delay.ms'         => 0,

        # small and quick: one partition for the internal topics (50 by
        # default, each a log to create and load), few threads on two
        # cores, an 8 MB cleaner buffer instead of 128 MB of heap
        'offsets.topic.num.partitions'             => 1,
        'transaction.state.log.num.partitions'     => 1,
        'num.network.threads'            => 2,
        'num.io.threads'                 => 2,
        'background.threads'             => 2,
        'num.recovery.threads.per.data.dir' => 1,
        'log.cleaner.dedupe.buffer.size' => 8 * 1024 * 1024,
        'auto.leader.rebalance.enable'   => 'false',
        'log.index.size.max.bytes'       => 1024 * 1024,

        %{$opt{props} || {}},
    );

    $t->write_file('kafka/server.properties',
        join('', map { "$_=$props{$_}\n" } sort keys %props));

    $t->write_file('kafka/log4j.properties', <<'EOF');
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
EOF

    return $k;
}

sub java {
    my $java = $ENV{RACE_JAVA} || '/usr/bin/java';
    die "java not found at $java (set RACE_JAVA)\n" unless -x $java;
    return $java;
}

sub libs {
    my ($t) = @_;

    my $libs = $ENV{RACE_KAFKA_LIBS};

    if (!$libs) {
        my $install = $t->root . '/t/engines/kafka-install.sh';
        my $cache = $t->cache;

        # stderr passes through: maven's complaints reach the test output
        open my $fh, '-|', 'bash', $install, $cache
            or die "$install: $!\n";
        $libs = join '', <$fh>;
        close $fh;
        die "$install $cache failed\n" if $? != 0;
        chomp $libs;
    }

    my @jars = glob("$libs/kafka_2.13-*.jar");
    die "no kafka jars in $libs\n" unless @jars;
    return $libs;
}

# 16 random bytes in base64url, no padding: the 22 characters of a Kafka Uuid
sub cluster_id {
    open my $fh, '<:raw', '/dev/urandom' or die "/dev/urandom: $!\n";
    my $n = read($fh, my $bytes, 16);
    close $fh;
    die "short read from /dev/urandom\n" unless $n && $n == 16;

    my $id = encode_base64($bytes, '');
    $id =~ tr{+/}{-_};
    $id =~ s/=+$//;

    # the storage tool reads an id that starts with "-" as an option
    $id =~ s/^-/A/;

    return $id;
}

sub format_storage {
    my ($t, $k) = @_;

    my $out = "$k->{dir}/format.log";
    my @argv = (java(), @{$k->{jvm}},
        "-Dlog4j.configuration=file:$k->{dir}/log4j.properties",
        '-cp', "$k->{libs}/*", 'kafka.tools.StorageTool', 'format',
        '-t', $k->{cluster}, '-c', "$k->{dir}/server.properties");

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        { exec @argv; }
        POSIX::_exit(127);
    }

    # bounded: the tool takes well under a second
    my $end = time + 60;
    my $done = 0;

    while (time < $end) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            $done = 1;
            last;
        }
        sleep 0.05;
    }

    if (!$done) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        die "kafka storage format timed out:\n" . $t->read_file($out);
    }

    die "kafka storage format failed:\n" . $t->read_file($out)
        if $? != 0 || !-e "$k->{data}/meta.properties";
}

# what went wrong, from byte offset $from of a log on: its first errors,
# which a failed start buries under shutdown lines, then its last lines
sub tail {
    my ($t, $log, $from) = @_;

    my $text = substr($t->read_file($log), $from || 0);
    my @lines = split /\n/, $text;

    my @errors = grep { / (ERROR|FATAL) |Exception/ } @lines;
    splice(@errors, 20) if @errors > 20;
    splice(@lines, 0, @lines - 40) if @lines > 40;

    return join("\n", @errors, '...', @lines) . "\n";
}

# Topics made now with their partitions, instead of at their first use
# by auto.create.topics.enable: a consumer subscribed to a topic that
# is not there yet has nothing to join for until a producer makes it
# and the consumer's next metadata refresh sees it.  One CreateTopics
# v0 request over the wire: { name => partitions }; a topic that is
# there already is left as it is.  Dies saying which failed.
sub create_topics {
    my ($t, %topics) = @_;

    my $k = $t->{kafka} or die "kafka was never started\n";
    my @names = sort keys %topics;

    # name, partitions, replication factor 1, no assignments, no configs
    my $body = pack('l>', scalar @names)
        . join('', map {
            pack('s>/a* l> s> l> l>', $_, $topics{$_}, 1, 0, 0) } @names)
        . pack('l>', 10_000);

    my $res = call($k->{port}, 19, 0, $body, 15)
        // die "kafka: no answer to CreateTopics on 127.0.0.1:$k->{port}\n";

    my ($n) = unpack('l>', $res);
    my $pos = 4;
    my @failed;

    for (1 .. $n) {
        my ($nlen) = unpack("x$pos s>", $res);
        my $name = substr($res, $pos + 2, $nlen);
        $pos += 2 + $nlen;
        my ($err) = unpack("x$pos s>", $res);
        $pos += 2;

        # 36: TOPIC_ALREADY_EXISTS
        push @failed, "$name (error $err)" if $err != 0 && $err != 36;
    }

    die "kafka: CreateTopics failed for @failed\n" if @failed;
    return;
}

# a request over the wire: api_key, version and body; the answer after
# its correlation id, or undef if the broker did not answer in time
sub call {
    my ($port, $api, $version, $body, $timeout) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 2) or return;

    my $req = pack('s> s> l> s>/a*', $api, $version, 9, 'race-test') . $body;
    $req = pack('l>', length $req) . $req;

    my $end = time + $timeout;
    my $rbuf = '';

    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout);

        syswrite($s, $req) == length $req or die "write\n";

        while (1) {
            my $n = sysread($s, my $chunk, 65536);
            die "eof\n" unless $n;
            $rbuf .= $chunk;
            last if length $rbuf >= 4
                && length $rbuf >= 4 + unpack('l>', $rbuf);
            die "timeout\n" if time > $end;
        }

        alarm(0);
    };
    alarm(0);
    close $s;

    return if $@ || length $rbuf < 8 || unpack('x4 l>', $rbuf) != 9;
    return substr($rbuf, 8);
}

# Metadata v1 over the wire: the brokers the cluster reports, as
# "host:port", or nothing if the broker does not answer (yet).
sub metadata {
    my ($port, $timeout) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 1) or return;

    # header: api_key 3, version 1, correlation id, client id;
    # body: an empty topics array (v1: no topics, just the brokers)
    my $client = 'race-test';
    my $req = pack('s> s> l> s>/a* l>', 3, 1, 7, $client, 0);
    $req = pack('l>', length $req) . $req;

    my $end = time + ($timeout || 2);
    my $rbuf = '';

    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout || 2);

        syswrite($s, $req) == length $req or die "write\n";

        while (1) {
            my $n = sysread($s, my $chunk, 65536);
            die "eof\n" unless $n;
            $rbuf .= $chunk;
            last if length $rbuf >= 4
                && length $rbuf >= 4 + unpack('l>', $rbuf);
            die "timeout\n" if time > $end;
        }

        alarm(0);
    };
    alarm(0);
    close $s;

    return if $@ || length $rbuf < 12;

    my ($size, $corr, $nbrokers) = unpack('l> l> l>', $rbuf);
    return if $corr != 7 || $nbrokers < 0 || $nbrokers > 1000;

    my $pos = 12;
    my @brokers;

    for (1 .. $nbrokers) {
        return if $pos + 6 > length $rbuf;

        # node_id int32, host string, port int32, rack nullable string
        my ($node, $hlen) = unpack("x$pos l> s>", $rbuf);
        $pos += 6;
        return if $hlen < 0 || $pos + $hlen + 6 > length $rbuf;

        my $host = substr($rbuf, $pos, $hlen);
        $pos += $hlen;

        my ($bport, $rlen) = unpack("x$pos l> s>", $rbuf);
        $pos += 6;
        $pos += $rlen if $rlen > 0;

        push @brokers, "$host:$bport";
    }

    return @brokers;
}

1;
