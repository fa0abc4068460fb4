#!/usr/bin/perl

# ./build.sh run as a newcomer meets it: tools/race-local, the script it
# ends in, run on the test build with RACE_HTTP_PORT and RACE_HTTPS_PORT
# set. First what fails before the engines start (a port taken, an nginx
# that does not load, a Redis that does not start), then a whole start:
# "up" once nginx is ready (race_ready) and both workers are (their
# /readyz), and then a signup, a ride and a live watch succeed at their
# first try; the local config's ports and WebSocket origins, no echo
# endpoint, and Ctrl-C stopping every process it started; last, the HTTP port taken while the engines start: nginx's
# bind() error, the others stopped.

use strict;
use warnings;

use lib 't/lib';
use File::Path qw(make_path);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::WS;

my $t = Race::Test->new;
my $dir = $t->dir;
my $root = $t->root;
my $build = $t->build;

my $http = $t->port;
my $https = $t->port;

system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=x"
    . " -keyout $dir/dev.key -out $dir/dev.crt 2>/dev/null") == 0
    or die "openssl failed\n";

# a run folder as build.sh run leaves it for race-local
sub run_dir {
    my ($name, $module) = @_;

    my $run = "$dir/$name";
    make_path("$run/modules", "$run/certs");

    if (defined $module) {
        $t->write_file("$name/modules/ngx_http_race_module.so", $module);
    } else {
        symlink($t->module, "$run/modules/ngx_http_race_module.so")
            or die "symlink: $!\n";
    }

    system('cp', "$dir/dev.crt", "$dir/dev.key", "$run/certs/") == 0
        or die "cp failed\n";
    symlink("$build/html", "$run/html") or die "symlink: $!\n";

    my $out = `$build/tools/race-token --gen-key $run/token.key 2>&1`;
    die "race-token: $out" if $?;

    return $run;
}

my $n = 0;

# starts race-local on RUN; (its name in the harness, its output file)
sub race_local {
    my ($run, %env) = @_;

    my $name = 'local' . ++$n;
    my $out = "$dir/$name.out";

    # in a process group of its own, as a shell's foreground job is
    $t->spawn(name => $name, log => $out, group => 1,
        argv => ['perl', "$root/tools/race-local", $build, $run],
        env => { RACE_HTTP_PORT => $http, RACE_HTTPS_PORT => $https,
            %env });

    return ($name, $out);
}

# waits (bounded) for race-local to exit: its status, or undef
sub wait_exit {
    my ($name, $secs) = @_;

    my $end = time + $secs;
    while (time < $end) {
        return $t->{status}{$name} unless $t->running($name);
        sleep 0.05;
    }

    diag("$name still runs after ${secs}s");
    return undef;
}

# waits (bounded) for a line of the output that matches; every process
# seen under race-local meanwhile goes into %$seen
sub wait_output {
    my ($out, $re, $secs, $name, $seen) = @_;

    my $end = time + $secs;
    while (time < $end) {
        if ($seen) {
            $seen->{"$_->[0] $_->[2]"} = $_ for descendants($t->pid($name));
        }
        return 1 if $t->read_file($out) =~ $re;
        return 0 unless $t->running($name);
        sleep 0.1;
    }

    return 0;
}

# waits (bounded) until none of the processes is left
sub gone {
    my ($procs) = @_;

    my $end = time + 10;
    my @left;
    while (time < $end) {
        @left = grep { alive($_) } values %$procs;
        last unless @left;
        sleep 0.05;
    }

    ok(!@left, 'every process it started is gone ('
        . join(' ', sort map { $_->[1] } values %$procs) . ')')
        or diag(join ', ', map { "$_->[1] $_->[0]" } @left);
}

# the processes under PID, each [pid, name, start time]: with the start
# time a process is told from a later one that got its PID again
sub descendants {
    my ($pid) = @_;

    my %kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $p = stat_of($stat) or next;
        push @{$kids{$p->[3]}}, [@$p[0 .. 2]];
    }

    my @all;
    my @todo = ($pid);
    while (defined(my $p = shift @todo)) {
        for my $kid (@{$kids{$p} || []}) {
            push @all, $kid;
            push @todo, $kid->[0];
        }
    }

    return @all;
}

# /proc/PID/stat: [pid, name, start time, parent]
sub stat_of {
    my ($file) = @_;

    open my $fh, '<', $file or return;
    my $line = <$fh> // return;
    close $fh;

    # the name may hold spaces and parentheses: the last ")" ends it
    return unless $line =~ /^(\d+) \((.*)\) (.*)$/s;
    my ($pid, $name, @f) = ($1, $2, split ' ', $3);

    # after the name: state, ppid, ... starttime is the 20th
    return [$pid, $name, $f[19], $f[1]];
}

sub alive {
    my ($proc) = @_;
    my $now = stat_of("/proc/$proc->[0]/stat") or return 0;
    return $now->[2] eq $proc->[2];
}

sub engines_started {
    my ($run) = @_;
    return -e "$run/data/redis.log" || -e "$run/data/kafka";
}

my $run = run_dir('run');

# a port held: said before anything starts, with the variable to set

{
    my $held = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $https, Proto => 'tcp', Listen => 5, ReuseAddr => 1)
        or die "listen on $https: $!\n";

    my ($name, $out) = race_local($run);
    my $status = wait_exit($name, 20);

    ok(defined $status && $status >> 8 == 1, 'a port in use: exit code 1');
    my $text = $t->read_file($out);
    like($text, qr/port\ $https\ is\ in\ use\ \(by\ [^)]+\):
        \ set\ RACE_HTTPS_PORT\ to\ a\ free\ port,
        \ e\.g\.\ RACE_HTTPS_PORT=\d+\ \.\/build\.sh\ run/x,
        'it names the port and the variable');
    like($text, qr/\(by [^)]*, pid $$\)/, 'and the process that holds it')
        if grep { -x "$_/ss" } split /:/, $ENV{PATH};
    unlike($text, qr/port $http\b/, 'not the free one');
    ok(!engines_started($run), 'before the engines start');

    close $held;
}

# nginx that cannot load its module: told before the engines start

{
    my $broken = run_dir('broken', "not a module\n");

    my ($name, $out) = race_local($broken);
    my $status = wait_exit($name, 30);

    ok(defined $status && $status >> 8 == 1, 'nginx -t fails: exit code 1');
    my $text = $t->read_file($out);
    like($text, qr/nginx cannot start: \Q$broken\E\/nginx\.conf does not load/,
        'it names nginx');
    like($text, qr/\|\ nginx:\ \[emerg\]\ dlopen\(\)
        \ "\Q$broken\E\/modules\/ngx_http_race_module\.so"\ failed/x,
        'and quotes its error');
    like($text, qr/\Q$broken\E\/logs\/error\.log/, 'and names its log');
    ok(!engines_started($broken), 'before the engines start');
}

# a service that exits at its start: named, its status, its log quoted,
# nothing started after it

{
    my $bad = $t->write_file('bad-redis',
        "#!/bin/sh\nexec /usr/bin/redis-server \"\$@\" --no-such-setting 1\n");
    chmod 0755, $bad;

    # promptly: not at the end of the 15 s Redis is given to answer
    my ($name, $out) = race_local($run, RACE_REDIS_SERVER => $bad);
    my $status = wait_exit($name, 10);

    ok(defined $status && $status >> 8 == 1, 'Redis fails: exit code 1');
    my $text = $t->read_file($out);
    like($text, qr/Redis did not start: it exited with code 1\n/,
        'it names Redis and how it ended');
    like($text, qr/the\ end\ of\ its\ log,\ \Q$run\E\/data\/redis\.log:\n
        (\ {4}\|.*\n)*\ {4}\|\ Bad\ directive/x,
        'and quotes its log');
    ok(!-e "$run/data/kafka", 'Kafka is not started after it');
}

# the whole platform: up once nginx is ready, Ctrl-C stops all of it

{
    $t->log_file("$run/logs/$_") for qw(error.log tracker.log accounts.log);

    my ($name, $out) = race_local($run);
    my $pid = $t->pid($name);

    my %procs;
    ok(wait_output($out, qr/race-local: ngx_race is up/, 240, $name,
        \%procs), 'race-local says it is up') or diag($t->read_file($out));
    like($t->read_file($out),
        qr{spectators:  http://127\.0\.0\.1:$http/  \(https on $https\)},
        'on the ports set');
    # nginx logs a request after answering it: wait for the line
    my $log_end = time + 10;
    sleep 0.05 until $t->read_file("$run/logs/access.log")
        =~ /"GET \/race_ready HTTP\/1\.1" 200 .*HTTP-Tiny/ || time > $log_end;
    like($t->read_file("$run/logs/access.log"),
        qr/"GET \/race_ready HTTP\/1\.1" 200 .*HTTP-Tiny/,
        'after nginx said it was ready');

    like($t->read_file($out), qr/race-local:\ ngx_race\ is\ up\ in\ \d+\.\d\ s\n
        \ {4}\(started\ Redis\ [\d.]+\ s,\ Kafka\ [\d.]+\ s,
        \ FerretDB\ [\d.]+\ s;\ then\ ready:\ .*race-accounts\ \+[\d.]+\ s
        /x, 'in how long, and each step');

    # up means up: a signup, a ride and a live watch, each at its first
    # try, at once (no 503 while a worker joins its group)
    my $res = HTTP::Tiny->new(timeout => 10)->post(
        "http://127.0.0.1:$http/api/auth/signup", {
            headers => { 'Content-Type' => 'application/json' },
            content => '{"email":"first@example.com","name":"First",'
                . '"password":"a long and rare passphrase 7"}' });
    is($res->{status}, 201, 'a signup right after "up": 201 at once')
        or diag("$res->{status} $res->{content}");

    my $live = Race::WS->start(port => $http, path => '/live/r1',
        origin => "http://localhost:$http");
    my $f = $live->read_frame(10);
    like($f && $f->{payload}, qr/^\{"type":"snapshot","race":"r1"/,
        'a live watch: the snapshot at once');

    my $report = "$dir/sim.json";
    my $sim = `$build/tools/race-sim --url ws://127.0.0.1:$http/ride \\
        --key-file $run/token.key --kid dev --riders 2 --fixes 3 \\
        --interval-ms 200 --quiet --report $report 2>&1`;
    is($?, 0, 'a ride: every fix acked') or diag($sim);
    my $rep = eval { JSON::PP->new->decode($t->read_file($report)) } || {};
    is_deeply([@$rep{qw(sent acked rejected reconnects)}], [6, 6, 0, 0],
        'at the first try, none refused') or diag($sim);

    # the ride reaches the live view: race-tracker was ready too
    my $seen = 0;
    my $end = time + 30;
    while (!$seen && time < $end) {
        my $fr = $live->read_frame(2) or next;
        $seen = 1 if ($fr->{payload} // '') =~ /"rider":"p[12]"/;
    }
    ok($seen, 'and the spectator sees its riders');
    $live->disconnect;

    $res = HTTP::Tiny->new(timeout => 5)->get("http://127.0.0.1:$http/");
    is($res->{status}, 200, 'the web client is served');
    ok($t->wait_port($https, 5), 'https is open');

    # no WebSocket echo: /ws/echo is a page of the web client like any
    my $ws = Race::WS->new(port => $http)->handshake(path => '/ws/echo');
    ok($ws && $ws->{status} != 101, 'no echo endpoint')
        or diag($ws ? "status $ws->{status}" : 'no answer');

    # the WebSocket origins follow the ports; this spectator stays
    my $spectator = Race::WS->new(port => $http);
    $ws = $spectator->handshake(path => '/live/r1',
        origin => "http://localhost:$http");
    is($ws && $ws->{status}, 101, 'the origin of the port set is allowed');
    $ws = Race::WS->new(port => $http)->handshake(path => '/live/r1',
        origin => 'http://localhost:8080');
    is($ws && $ws->{status}, 403, 'the default port\'s is not');

    my @procs = descendants($pid);
    $procs{"$_->[0] $_->[2]"} = $_ for @procs;
    my %names = map { $_->[1] => 1 } @procs;
    for (qw(redis-server java ferretdb race-tracker race-accounts nginx)) {
        ok($names{$_}, "$_ runs under race-local");
    }

    # Ctrl-C at a terminal: SIGINT to the whole foreground process group
    my $error_log = -s "$run/logs/error.log" || 0;
    kill 'INT', -$pid;

    # nginx stops first, gracefully: the spectator is told 1001
    my ($code) = $spectator ? $spectator->read_close(30) : ();
    is($code, 1001, 'Ctrl-C: a spectator is told 1001, going away');
    $spectator->send_close(1000) if $spectator;

    my $status = wait_exit($name, 120);
    is($status, 0, 'Ctrl-C: race-local stops, exit code 0');
    like($t->read_file($out), qr/race-local: stopping\n/, 'it says so');
    gone(\%procs);

    my $stop_log = substr($t->read_file("$run/logs/error.log"), $error_log);
    like($stop_log, qr/\[notice\] .*gracefully shutting down/,
        'nginx shut down gracefully');
    unlike($stop_log, qr/SIGINT|SIGTERM/, 'not by a fast stop\'s signal');

    my @reports = glob("$run/data/*.asan.*");
    ok(!@reports, 'no sanitizer reports of nginx')
        or diag(join "\n", map { $t->read_file($_) } @reports);
}

# a port taken after the check, while the engines start: nginx cannot
# bind, is not taken for up, and is named with its error log; the others
# stop

{
    my $taken = run_dir('taken');

    my ($name, $out) = race_local($taken);
    my $pid = $t->pid($name);

    my %procs;
    ok(wait_output($out, qr/starting Redis, Kafka and FerretDB/, 30, $name,
        \%procs), 'race-local starts the engines');
    my $held = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $http, Proto => 'tcp', Listen => 5, ReuseAddr => 1)
        or die "listen on $http: $!\n";

    ok(wait_output($out, qr/race-local: stopping/, 240, $name, \%procs),
        'race-local stops') or diag($t->read_file($out));
    my $status = wait_exit($name, 120);
    ok(defined $status && $status >> 8 == 1, 'exit code 1');

    my $text = $t->read_file($out);
    unlike($text, qr/is up/, 'it never says it is up');
    like($text, qr/race-local:\ nginx\ exited\ with\ code\ 1\n
        \ {4}the\ end\ of\ its\ log,\ \Q$taken\E\/logs\/error\.log:\n/x,
        'it names nginx, its exit code and its log');
    like($text, qr/\ {4}\|\ .*\[emerg\]\ .*bind\(\)\ to\ 127\.0\.0\.1:$http
        \ failed\ \(98:\ Address\ already\ in\ use\)/x,
        'and quotes the bind() error');
    like($text, qr/nginx\ could\ not\ listen\ on\ 127\.0\.0\.1:$http
        \ \(98:\ Address\ already\ in\ use\):
        \ set\ RACE_HTTP_PORT\ to\ a\ free\ port/x,
        'and says what to set');
    gone(\%procs);

    close $held;
}

$t->done;
