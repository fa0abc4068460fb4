#!/usr/bin/perl

# "nginx -t" on every directive but race_ws_* (ws_conf.t has those): a
# good configuration passes, and every bad value is refused with a
# message that names the directive and quotes the value.  And the
# README's directive table lists exactly the module's command table.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;
use Race::Util qw(quoted);

my $t = Race::Test->new;
my $port = $t->port;
my $dir = $t->dir;

# key files: the secret is what is left after trimming the newline
sub key_file {
    my ($name, $bytes, $mode) = @_;

    my $file = $t->write_file($name, ('k' x $bytes) . "\n");
    chmod $mode || 0600, $file;
    return $file;
}

my $key = key_file('k32.key', 32);
my $key2 = key_file('k64.key', 64);
my $short = key_file('k31.key', 31);
my $open = key_file('open.key', 32, 0644);
my $big = key_file('big.key', 5000);

# http-level lines that make /ride and /live possible
my $base = <<"EOF";
    race_kafka_brokers 127.0.0.1:9092;
    race_token_key k1 $key;
    race_redis 127.0.0.1:6379;
EOF

# http-level lines, then a server with these lines in /loc
sub conf {
    my ($http, $loc, $srv) = @_;

    $loc ||= '';
    $srv ||= '';

    return <<"EOF";
    $http

    server {
        listen 127.0.0.1:$port;
        $srv

        location /loc {
            $loc
        }
    }
EOF
}

sub good {
    my ($name, $http) = @_;

    my ($rc, $out) = $t->nginx_test(http => $http);
    is($rc, 0, "$name: accepted") or diag($out);
    like($out, qr/test is successful/, "$name: test is successful");
    unlike($out, qr/\[(warn|alert|crit)\]|AddressSanitizer|runtime error/,
        "$name: no warnings") or diag($out);
}

# refused, with every pattern in @want found in the [emerg] line
sub bad {
    my ($name, $http, @want) = @_;

    my ($rc, $out) = $t->nginx_test(http => $http);
    isnt($rc, 0, "$name: refused");

    my ($emerg) = $out =~ /^(.*\[emerg\].*)$/m;
    ok($emerg, "$name: emerg message") or diag($out);
    $emerg ||= '';
    note($emerg);

    for my $re (@want) {
        like($emerg, $re, "$name: message matches $re");
    }

    # the whole message on the one line, ending where nginx ends it
    like($emerg, qr/ in \Q$dir\E\/test\.conf:\d+$/,
        "$name: one line, with the file and line");

    unlike($out, qr/\[alert\]|\[crit\]|AddressSanitizer|runtime error/,
        "$name: nothing worse than the refusal");
}


# good

good('every directive', conf(<<"EOF", 'race_ingest;', <<'EOF2'));
    race_kafka_brokers
        127.0.0.1:9092,SASL_SSL://kafka-1.example:9093,[::1]:9092,broker_2;
    race_kafka_topic Race.fixes-2_x;
    race_kafka_option linger.ms 10;
    race_kafka_option acks all;
    race_kafka_option client.id race-nginx;
    race_token_key k1 $key;
    race_token_key old-key_0 k64.key;
    race_redis 127.0.0.1:6379;
    race_redis_timeout 2500ms;
    race_ride_max_batch 100;
    race_ride_max_in_flight 2000;
    race_ride_max_in_flight_size 1m;
    race_fix_max_future 30s;
    race_fix_max_past 1d;
    race_ride_after_finish 2h;
EOF
        location /live/ {
            race_live;
            race_ride_max_batch 1;
        }
EOF2

good('limits at their ends', conf($base . <<"EOF", <<'EOF2'));
    race_kafka_topic ${\ ('a' x 249)};
    race_token_key ${\ ('k' x 64)} k64.key;
EOF
            race_ingest;
            race_ride_max_batch 500;
            race_ride_max_in_flight 1000000;
            race_ride_max_in_flight_size 64m;
            race_fix_max_future 0;
            race_fix_max_past 24d;
            race_ride_after_finish 24d;
EOF2

good('live send buffer at its ends, and off', conf($base
    . 'race_live_send_buffer 4k;', 'race_live; race_live_send_buffer 64m;',
    'race_live_send_buffer off;'));

good('server level', conf($base, 'race_ingest;',
    'race_ride_max_batch 1; race_fix_max_future 24d; race_fix_max_past 1ms;'
    . ' race_ride_max_in_flight 1; race_ride_max_in_flight_size 1k;'));

good('one broker, no port', conf($base =~ s/127.0.0.1:9092/broker/r,
    'race_ingest;'));

good('redis by name, default port',
    conf($base =~ s/127.0.0.1:6379/localhost/r, 'race_live;'));

good('directives without an endpoint', conf($base));

good('redis timeout at its ends',
    conf($base . 'race_redis_timeout 100ms;', 'race_live;'));
good('redis timeout at its other end',
    conf($base . 'race_redis_timeout 10m;', 'race_live;'));

# a key anyone may read still works, with a warning naming the file
{
    my ($rc, $out) = $t->nginx_test(http => conf(
        "race_token_key k $open;"));
    is($rc, 0, 'world-readable key: accepted') or diag($out);
    like($out, qr/\[warn\].*"race_token_key".*\Q"$open"\E.*everyone/,
        'world-readable key: warned');
}


# numbers and times

bad('max batch 0', conf($base, 'race_ride_max_batch 0;'),
    quoted('race_ride_max_batch'), quoted('0'), qr/500/);
bad('max batch 501', conf($base, 'race_ride_max_batch 501;'),
    quoted('race_ride_max_batch'), quoted('501'), qr/500/);
bad('max batch abc', conf($base, 'race_ride_max_batch abc;'),
    quoted('race_ride_max_batch'), quoted('abc'));
bad('max batch -1', conf('race_ride_max_batch -1;'),
    quoted('race_ride_max_batch'), quoted('-1'));
bad('in flight 0', conf($base, 'race_ride_max_in_flight 0;'),
    quoted('race_ride_max_in_flight'), quoted('0'), qr/1000000/);
bad('in flight 1000001',
    conf($base, 'race_ride_max_in_flight 1000001;'),
    quoted('race_ride_max_in_flight'), quoted('1000001'));
bad('in flight abc', conf($base, 'race_ride_max_in_flight abc;'),
    quoted('race_ride_max_in_flight'), quoted('abc'));
bad('in flight twice',
    conf('race_ride_max_in_flight 1; race_ride_max_in_flight 2;'),
    quoted('race_ride_max_in_flight'), qr/duplicate/);
bad('in flight size 1023',
    conf($base, 'race_ride_max_in_flight_size 1023;'),
    quoted('race_ride_max_in_flight_size'), quoted('1023'), qr/64m/);
bad('in flight size 65m', conf($base, 'race_ride_max_in_flight_size 65m;'),
    quoted('race_ride_max_in_flight_size'), quoted('65m'));
bad('in flight size 1x', conf($base, 'race_ride_max_in_flight_size 1x;'),
    quoted('race_ride_max_in_flight_size'), quoted('1x'));

bad('max batch twice', conf('race_ride_max_batch 1; race_ride_max_batch 2;'),
    quoted('race_ride_max_batch'), qr/duplicate/);

bad('max future x', conf($base, 'race_fix_max_future x;'),
    quoted('race_fix_max_future'), quoted('x'));
bad('max future 25d', conf('race_fix_max_future 25d;'),
    quoted('race_fix_max_future'), quoted('25d'));
bad('after finish x', conf($base, 'race_ride_after_finish soon;'),
    quoted('race_ride_after_finish'), quoted('soon'));
bad('after finish 25d', conf('race_ride_after_finish 25d;'),
    quoted('race_ride_after_finish'), quoted('25d'));
bad('max past 0', conf($base, 'race_fix_max_past 0;'),
    quoted('race_fix_max_past'), quoted('0'));
bad('max past not a time', conf('race_fix_max_past week;'),
    quoted('race_fix_max_past'), quoted('week'));
bad('max past twice', conf('race_fix_max_past 1d; race_fix_max_past 2d;'),
    quoted('race_fix_max_past'), qr/duplicate/);

bad('live send buffer 4095', conf($base, 'race_live_send_buffer 4095;'),
    quoted('race_live_send_buffer'), quoted('4095'), qr/4k to 64m, or off/);
bad('live send buffer 65m', conf($base, 'race_live_send_buffer 65m;'),
    quoted('race_live_send_buffer'), quoted('65m'));
bad('live send buffer 0', conf('race_live_send_buffer 0;'),
    quoted('race_live_send_buffer'), quoted('0'));
bad('live send buffer on', conf('race_live_send_buffer on;'),
    quoted('race_live_send_buffer'), quoted('on'));
bad('live send buffer twice',
    conf('race_live_send_buffer 8k; race_live_send_buffer 16k;'),
    quoted('race_live_send_buffer'), qr/duplicate/);
bad('live send buffer off twice',
    conf('race_live_send_buffer off; race_live_send_buffer off;'),
    quoted('race_live_send_buffer'), qr/duplicate/);
bad('live send buffer without a size', conf('race_live_send_buffer;'),
    quoted('race_live_send_buffer'), qr/number of arguments/);


# Kafka

for my $b ('', 'a:9092,', ',a:9092', 'a:9092,,b:9092', 'a b:9092', 'a:0',
    'a:65536', 'a:', 'a:port', 'a:9092:1', '[::1', '[]:9092', '[::1]x',
    'unix:/tmp/kafka', 'a/b:9092', '://a:9092', 'a:9092;b:9092')
{
    bad("brokers '$b'", conf(qq{race_kafka_brokers "$b";}),
        quoted('race_kafka_brokers'), quoted($b));
}

bad('brokers twice',
    conf('race_kafka_brokers a:9092; race_kafka_brokers b:9092;'),
    quoted('race_kafka_brokers'), qr/duplicate/);

my $long = 'a' x 250;

for my $topic ('bad topic', '', $long, '.', '..', 'a/b', "t\x{e9}")
{
    bad("topic '" . substr($topic, 0, 20) . "'",
        conf(qq{race_kafka_topic "$topic";}),
        quoted('race_kafka_topic'), quoted($topic));
}

bad('topic twice', conf('race_kafka_topic a; race_kafka_topic b;'),
    quoted('race_kafka_topic'), qr/duplicate/);

bad('statistics off with race_ready',
    conf("$base race_kafka_option statistics.interval.ms 0;", 'race_ready;'),
    quoted('race_kafka_option'), quoted('statistics.interval.ms'),
    quoted('0'), quoted('race_ready'));

bad('option unknown', conf('race_kafka_option no.such.property 1;'),
    quoted('race_kafka_option'), quoted('no.such.property'), quoted('1'));
bad('option in the wrong case', conf('race_kafka_option Acks all;'),
    quoted('race_kafka_option'), quoted('Acks'));
bad('option acks maybe', conf('race_kafka_option acks maybe;'),
    quoted('race_kafka_option'), quoted('acks'), quoted('maybe'));
bad('option linger.ms -5', conf('race_kafka_option linger.ms -5;'),
    quoted('race_kafka_option'), quoted('linger.ms'), quoted('-5'));
bad('option a callback', conf('race_kafka_option dr_msg_cb 1;'),
    quoted('race_kafka_option'), quoted('dr_msg_cb'));
bad('option bootstrap.servers',
    conf('race_kafka_option bootstrap.servers 127.0.0.1:9092;'),
    quoted('race_kafka_option'), quoted('bootstrap.servers'),
    quoted('race_kafka_brokers'));
bad('option metadata.broker.list',
    conf('race_kafka_option metadata.broker.list 127.0.0.1:9092;'),
    quoted('race_kafka_option'), quoted('metadata.broker.list'),
    quoted('race_kafka_brokers'));
bad('option without a value', conf('race_kafka_option acks;'),
    quoted('race_kafka_option'), qr/number of arguments/);


# rider token keys

bad('key file missing', conf("race_token_key k $dir/nope.key;"),
    quoted('race_token_key'), quoted("$dir/nope.key"), qr/No such file/);
bad('key of 31 bytes', conf("race_token_key k $short;"),
    quoted('race_token_key'), quoted($short), qr/31 bytes/, qr/32/);
bad('key file too big', conf("race_token_key k $big;"),
    quoted('race_token_key'), quoted($big));
bad('key file a directory', conf("race_token_key k $dir;"),
    quoted('race_token_key'), quoted($dir));
bad('key id "bad id!"', conf(qq{race_token_key "bad id!" $key;}),
    quoted('race_token_key'), quoted('bad id!'));
bad('key id empty', conf(qq{race_token_key "" $key;}),
    quoted('race_token_key'), quoted(''));
bad('key id of 65', conf('race_token_key ' . ('k' x 65) . " $key;"),
    quoted('race_token_key'), quoted('k' x 65));
bad('key id twice',
    conf("race_token_key k1 $key; race_token_key k1 $key2;"),
    quoted('race_token_key'), quoted('k1'), qr/duplicate/);


# Redis

bad('redis not a host:port', conf('race_redis "not a host:port";'),
    quoted('race_redis'), quoted('not a host:port'));
bad('redis unix socket', conf('race_redis unix:/tmp/x;'),
    quoted('race_redis'), quoted('unix:/tmp/x'), qr/host:port/);
bad('redis port 0', conf('race_redis 127.0.0.1:0;'),
    quoted('race_redis'), quoted('127.0.0.1:0'));
bad('redis empty', conf('race_redis "";'),
    quoted('race_redis'), quoted(''));
bad('redis twice',
    conf('race_redis 127.0.0.1:6379; race_redis 127.0.0.1:6380;'),
    quoted('race_redis'), qr/duplicate/);

bad('redis timeout too short', conf($base . 'race_redis_timeout 99ms;'),
    quoted('race_redis_timeout'), quoted('99ms'), qr/100ms to 10m/);
bad('redis timeout too long', conf($base . 'race_redis_timeout 11m;'),
    quoted('race_redis_timeout'), quoted('11m'), qr/100ms to 10m/);
bad('redis timeout 0', conf($base . 'race_redis_timeout 0;'),
    quoted('race_redis_timeout'), quoted('0'));
bad('redis timeout not a time', conf($base . 'race_redis_timeout soon;'),
    quoted('race_redis_timeout'), quoted('soon'));
bad('redis timeout twice',
    conf($base . 'race_redis_timeout 1s; race_redis_timeout 2s;'),
    quoted('race_redis_timeout'), qr/duplicate/);


# endpoints and what they need

bad('ingest without brokers',
    conf("race_token_key k $key;", 'race_ingest;'),
    quoted('race_ingest'), quoted('race_kafka_brokers'));
bad('ingest without a key',
    conf('race_kafka_brokers 127.0.0.1:9092; race_redis 127.0.0.1:6379;',
        'race_ingest;'),
    quoted('race_ingest'), quoted('race_token_key'));
bad('ingest without redis (revoked rider tokens are there)',
    conf("race_kafka_brokers 127.0.0.1:9092; race_token_key k $key;",
        'race_ingest;'),
    quoted('race_ingest'), quoted('race_redis'));
bad('live without redis', conf('', 'race_live;'),
    quoted('race_live'), quoted('race_redis'));

bad('ingest twice', conf($base, 'race_ingest; race_ingest;'),
    quoted('race_ingest'), qr/duplicate/);
bad('live twice', conf($base, 'race_live; race_live;'),
    quoted('race_live'), qr/duplicate/);
bad('ingest and live', conf($base, 'race_ingest; race_live;'),
    quoted('race_live'), qr/conflicts/);
bad('live and ingest', conf($base, 'race_live; race_ingest;'),
    quoted('race_ingest'), qr/conflicts/);
bad('ingest and ws echo', conf($base, 'race_ingest; race_ws_echo;'),
    quoted('race_ws_echo'), qr/conflicts/);
bad('ws echo and ingest', conf($base, 'race_ws_echo; race_ingest;'),
    quoted('race_ingest'), qr/conflicts/);
bad('live and ws echo', conf($base, 'race_live; race_ws_echo;'),
    quoted('race_ws_echo'), qr/conflicts/);
bad('ingest and proxy_pass',
    conf($base, 'proxy_pass http://127.0.0.1:1; race_ingest;'),
    quoted('race_ingest'), qr/conflicts/);
bad('ingest with an argument', conf($base, 'race_ingest on;'),
    quoted('race_ingest'), qr/number of arguments/);


# contexts

bad('ingest in http', conf($base . 'race_ingest;'),
    quoted('race_ingest'), qr/not allowed here/);
bad('ingest in server', conf($base, '', 'race_ingest;'),
    quoted('race_ingest'), qr/not allowed here/);
bad('live in http', conf($base . 'race_live;'),
    quoted('race_live'), qr/not allowed here/);

for my $d ('race_kafka_brokers a:9092', 'race_kafka_topic t',
    'race_kafka_option acks all', "race_token_key k $key",
    'race_redis 127.0.0.1:6379', 'race_redis_timeout 1s')
{
    my ($name) = $d =~ /^(\S+)/;

    bad("$name in a location", conf('', "$d;"),
        quoted($name), qr/not allowed here/);
    bad("$name in a server", conf('', '', "$d;"),
        quoted($name), qr/not allowed here/);
}


# the README's table and the command table name the same directives,
# with the same contexts

sub commands {
    # each module of the shared object has its own command table
    my %cmd;
    for my $file (glob($t->root . '/ngx_race_module/*.c')) {
        open my $fh, '<', $file or die "module source $file: $!\n";
        my $src = do { local $/; <$fh> };

        while ($src =~ /_commands\[\] = \{(.*?)ngx_null_command/sg) {
            my $table = $1;
            while ($table =~ /ngx_string\("(race_\w+)"\),\s*([^,]+),/g) {
                my ($name, $flags) = ($1, $2);
                my @ctx = grep { $flags =~ /NGX_HTTP_${_}_CONF\b/ }
                    qw(MAIN SRV LOC);
                $cmd{$name} = "@ctx";
            }
        }
    }

    %cmd or die "no command table\n";

    return \%cmd;
}

sub readme {
    open my $fh, '<', $t->root . '/README.md' or die "README: $!\n";
    my $text = do { local $/; <$fh> };

    my ($section) = $text =~ /^## Directives\n(.*?)^## /ms
        or die "no Directives section\n";

    # "All in http, server or location unless said otherwise": a
    # meaning that starts "location:" or "http:" says otherwise
    my %ctx = (location => 'LOC', http => 'MAIN');

    my %doc;
    while ($section =~ /^\| `(race_\w+)[^`]*` \|[^|]*\| *(\w+:)?/mg) {
        my ($name, $where) = ($1, $2);
        $where =~ s/:$// if $where;
        $doc{$name} = $where && $ctx{$where} ? $ctx{$where} : 'MAIN SRV LOC';
    }

    return \%doc;
}

my $cmd = commands();
my $doc = readme();

cmp_ok(scalar keys %$cmd, '>=', 17, 'command table parsed');
is_deeply([sort keys %$doc], [sort keys %$cmd],
    'README directive table names every directive in the command table')
    or diag(explain({ only_in_readme => [grep { !$cmd->{$_} } keys %$doc],
        only_in_module => [grep { !$doc->{$_} } keys %$cmd] }));

for my $name (sort keys %$cmd) {
    next unless $doc->{$name};
    is($doc->{$name}, $cmd->{$name}, "$name: README context matches");
}

$t->done;
