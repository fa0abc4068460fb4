package Race::Platform;

# The whole live pipeline on loopback, as the tests of it need it:
# Redis, Kafka, FerretDB, the race-tracker worker, and nginx with /ride
# and /live.  race-sim plays the phones and the spectators.
#
#   my $p = Race::Platform->start($t, tick_ms => 200);
#   my $report = $p->sim('--races', 3, '--riders', 50, '--fixes', 20);
#   $p->stop_tracker; $p->start_tracker;
#   $p->mongo_count('{"race":"r1"}');
#
# Options: tick_ms, nginx_workers, worker_connections and main (nginx's
# events{} and main-level lines), partitions (Kafka's, for race.fixes),
# ride (more directives in /ride), http, api, locations, accounts,
# no_tracker.

use strict;
use warnings;

use JSON::PP;
use Race::Engine::Redis;
use Race::Token;

sub start {
    my ($class, $t, %opt) = @_;

    my $p = bless { t => $t, opt => \%opt, n => 0 }, $class;

    $p->{port} = $t->port;
    $p->{redis} = $t->redis;
    ($p->{redis_port}) = $p->{redis} =~ /:(\d+)$/;
    $p->{kafka} = $t->kafka($opt{partitions}
        ? (partitions => $opt{partitions}) : ());
    $p->{mongo} = $t->ferretdb;
    $p->{db} = 'ngx_race';
    $p->{topic} = 'race.fixes';
    ($p->{keyfile}, $p->{secret}) = Race::Token::key_file($t);

    $p->start_tracker unless $opt{no_tracker};

    # /ride waits for the revocations: race-accounts loads them, or the
    # test says there are none
    if ($opt{accounts}) {
        $p->start_accounts;
        Race::Engine::Redis::wait_revocations_loaded($p->{redis_port}, 60)
            or die "race-accounts did not load the revocations\n";

    } else {
        $p->revocations_loaded;
    }

    my $root = $t->root;
    my $http = <<"EOF";
    race_kafka_brokers $p->{kafka};
    race_kafka_topic $p->{topic};
    race_token_key k1 $p->{keyfile};
    race_redis $p->{redis};
    race_auth_common_passwords $root/conf/common-passwords.txt;
    ${\ ($opt{http} || '')}

    server {
        listen 127.0.0.1:$p->{port};

        location /ride {
            race_ingest;
            ${\ ($opt{ride} || '')}
        }

        location /live/ {
            race_live;
        }

        location /api/ {
            ${\ ($opt{api} || '')}
            race_api;
        }

        ${\ ($opt{locations} || '')}
    }
EOF

    $t->nginx(listen => [$p->{port}], http => $http,
        workers => $opt{nginx_workers}, main => $opt{main},
        worker_connections => $opt{worker_connections});

    return $p;
}

# after Redis restarts empty, where no race-accounts runs
sub revocations_loaded {
    my ($p) = @_;
    Race::Engine::Redis::revocations_loaded($p->{redis_port});
}

sub t { $_[0]{t} }
sub port { $_[0]{port} }
sub secret { $_[0]{secret} }

sub start_tracker {
    my ($p, %set) = @_;
    return $p->start_tracker_named('tracker', %set);
}

# one more instance, under a name of its own (tracker2...): the same
# consumer group, so that the partitions are shared out
sub start_tracker_named {
    my ($p, $name, %set) = @_;

    my $t = $p->{t};
    my %all = (
        kafka_brokers => $p->{kafka},
        kafka_topic => $p->{topic},
        kafka_group => 'race-tracker',
        mongo_uri => $p->{mongo},
        mongo_db => $p->{db},
        redis_host => '127.0.0.1',
        redis_port => $p->{redis_port},
        tick_ms => $p->{opt}{tick_ms} || 200,
        batch_wait_ms => 20,
        %set,
    );

    my $log = $t->dir . '/tracker.' . ++$p->{n} . '.log';
    $t->log_file($log);
    $t->spawn(name => $name, log => $log,
        argv => [$t->build . '/workers/race-tracker',
            map { ('--set', "$_=$all{$_}") } sort keys %all],
        env => $t->san_env($name));

    return $log;
}

# the race-accounts worker
sub accounts_argv {
    my ($p, @more) = @_;
    my $t = $p->{t};
    return [$t->build . '/workers/race-accounts',
        '--set', "kafka_brokers=$p->{kafka}",
        '--set', "mongo_uri=$p->{mongo}", '--set', "mongo_db=$p->{db}",
        '--set', 'redis_host=127.0.0.1',
        '--set', "redis_port=$p->{redis_port}", @more];
}

sub start_accounts {
    my ($p) = @_;
    my $t = $p->{t};
    my $log = $t->dir . '/accounts.' . ++$p->{n} . '.log';
    $t->log_file($log);
    $t->spawn(name => 'accounts', log => $log, argv => $p->accounts_argv,
        env => $t->san_env('accounts'));
    return $log;
}

# TERM: the worker drains and commits; KILL: it dies mid-batch
sub stop_tracker {
    my ($p, $signal) = @_;
    return $p->{t}->stop('tracker', signal => $signal || 'TERM');
}

# runs race-sim against this platform; returns its report, decoded
sub sim {
    my ($p, @args) = @_;

    my $t = $p->{t};
    my $report = $t->dir . '/sim.' . ++$p->{n} . '.json';
    my @argv = ($t->build . '/tools/race-sim', '--quiet',
        '--report', $report, @args);

    unless (grep { /^--(?:token|tokens|watch)$/ } @args) {
        push @argv, $p->rider_args;
    }

    my $out = `@argv 2>&1`;
    my $rc = $? >> 8;
    $t->san_output($t->write_file("sim.$p->{n}.out", $out));

    open my $fh, '<', $report or return { error => $out, rc => $rc };
    local $/;
    my $r = decode_json(<$fh>);
    $r->{rc} = $rc;
    $r->{output} = $out;
    return $r;
}

# what race-sim needs to ride here: the URL and the signing key
sub rider_args {
    my ($p) = @_;
    return ('--url', "ws://127.0.0.1:$p->{port}/ride",
        '--key-file', $p->{keyfile}, '--kid', 'k1');
}

# starts race-sim in the background (spectators next to a run); the
# report comes from sim_wait
sub sim_start {
    my ($p, $name, @args) = @_;

    my $t = $p->{t};
    my $report = $t->dir . "/$name.json";
    $t->spawn(name => "sim-$name", argv => [$t->build . '/tools/race-sim',
        '--quiet', '--report', $report, @args],
        env => $t->san_env("sim-$name"));
    $p->{reports}{$name} = $report;
}

sub sim_wait {
    my ($p, $name, $secs) = @_;

    my $t = $p->{t};
    my $end = time + ($secs || 120);
    while (time < $end && $t->running("sim-$name")) {
        select undef, undef, undef, 0.1;
    }
    $t->stop("sim-$name");

    open my $fh, '<', $p->{reports}{$name} or return {};
    local $/;
    return decode_json(<$fh>);
}

sub mongo {
    my ($p, @args) = @_;
    my $bin = $p->{t}->build . '/t/mongo_query';
    my @q = map { "'$_'" } @args;
    my $out = `$bin $p->{mongo} $p->{db} fixes @q 2>&1`;
    return $out;
}

sub mongo_count_in {
    my ($p, $coll, $filter) = @_;
    my $bin = $p->{t}->build . '/t/mongo_query';
    my $out = `$bin $p->{mongo} $p->{db} $coll count '${\ ($filter || '{}')}' 2>&1`;
    return $out =~ /^(\d+)\s*$/ ? $1 : "error: $out";
}

sub mongo_count {
    my ($p, $filter) = @_;
    my $out = $p->mongo('count', $filter || '{}');
    return $out =~ /^(\d+)\s*$/ ? $1 : "error: $out";
}

1;
