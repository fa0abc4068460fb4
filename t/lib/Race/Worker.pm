package Race::Worker;

# What the tests of the worker daemons share: a tool run to its end, the
# settings race-tracker and race-accounts are started with, starting
# them, the lines of their logs, a rider's state in Redis.  Each test
# used to carry its own copy of these.

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use Race::RESP;

our @EXPORT = qw(run_tool tracker_args accounts_args start_worker
    log_grep rider_state);

my $json = JSON::PP->new->utf8->canonical;

# Runs argv to its end, bounded (timeout, 60 s), with stdin from a
# string and env added to the environment.  Its stderr goes with its
# stdout: (exit code, output); with split_err, apart: (exit code,
# output, errors).  What it writes is checked for sanitizer reports.
my $runs = 0;
sub run_tool {
    my ($t, $argv, %o) = @_;

    my $n = ++$runs;
    my $dir = $t->dir;
    my $in = $t->write_file("run/$n.in", $o{stdin} // '');
    my ($out, $err) = ("$dir/run/$n.out", "$dir/run/$n.err");
    $t->san_output($o{split_err} ? $err : $out);

    my $env = $o{env} || {};
    my $pid = fork() // die "fork: $!\n";

    if ($pid == 0) {
        open STDIN, '<', $in or POSIX::_exit(127);
        open STDOUT, '>', $out or POSIX::_exit(127);
        if ($o{split_err}) {
            open STDERR, '>', $err or POSIX::_exit(127);
        } else {
            open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        }
        $ENV{$_} = $env->{$_} for keys %$env;
        { exec @$argv; }
        POSIX::_exit(127);
    }

    my $end = time + ($o{timeout} || 60);
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (time > $end) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return $o{split_err}
                ? (-1, scalar $t->read_file($out),
                    "timed out\n" . $t->read_file($err))
                : (-1, "timed out\n" . $t->read_file($out));
        }
        sleep 0.02;
    }

    return $o{split_err}
        ? ($? >> 8, scalar $t->read_file($out), scalar $t->read_file($err))
        : ($? >> 8, scalar $t->read_file($out));
}

# the --set arguments of a worker, in the order of their names
sub worker_args {
    my (%all) = @_;
    return map { ('--set', "$_=$all{$_}") } sort keys %all;
}

# race-tracker's and race-accounts' settings as the tests run them: the
# servers' addresses (kafka_brokers, mongo_uri, redis_port) and any
# other setting are given in %set
sub tracker_args {
    my (%set) = @_;
    return worker_args(
        kafka_topic => 'race.fixes',
        kafka_group => 'trackers',
        kafka_commit_ms => 200,
        mongo_db => 'ngx_race_t',
        redis_host => '127.0.0.1',
        tick_ms => 200,
        batch_wait_ms => 20,
        retry_max_ms => 500,
        %set);
}

sub accounts_args {
    my (%set) = @_;
    return worker_args(
        kafka_topic => 'race.accounts',
        kafka_commit_ms => 200,
        mongo_db => 'ngx_race_t',
        mongo_timeout_ms => 1000,
        redis_host => '127.0.0.1',
        redis_timeout_ms => 1000,
        reload_check_ms => 300,
        reload_batch => 3,
        retry_max_ms => 500,
        %set);
}

# starts a worker daemon as name, its log DIR/NAME.N.log; returns the log
my $nlog = 0;
sub start_worker {
    my ($t, $name, $argv) = @_;

    my $log = $t->dir . "/$name." . ++$nlog . '.log';
    $t->log_file($log);
    $t->spawn(name => $name, log => $log, argv => $argv,
        env => $t->san_env($name));
    return $log;
}

# the lines of a log that match re
sub log_grep {
    my ($t, $log, $re) = @_;
    return grep { /$re/ } split /\n/, $t->read_file($log);
}

# a rider's state in the Redis at rport, decoded; undef if none
sub rider_state {
    my ($rport, $race, $rider) = @_;
    my $v = resp_command($rport, 'HGET', "race:$race:state", $rider);
    return defined $v && $v =~ /^\{/ ? $json->decode($v) : undef;
}

1;
