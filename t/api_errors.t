#!/usr/bin/perl

# Every error in /api, /ride and /live has one shape, with
# Content-Type: application/json, the module's own and those nginx
# answers itself there: a body over client_max_body_size (the message
# names the location's limit), a malformed chunked body, "return",
# "deny" in limit_except, limits.  Other locations keep nginx's pages.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(time);
use Race::Test;
use Race::Token;

my $t = Race::Test->new;
my $port = $t->port;
my $redis = $t->redis;
my ($keyfile) = Race::Token::key_file($t);
my $root = $t->root;

# Kafka is not reached by anything here: a port with no broker will do
my $kafka = '127.0.0.1:' . $t->port;

$t->write_file('html/static/index.html', "hello\n");

$t->nginx(listen => [$port], http => <<"EOF");
    race_kafka_brokers $kafka;
    race_redis $redis;
    race_token_key k1 $keyfile;
    race_auth_common_passwords $root/conf/common-passwords.txt;

    limit_req_zone \$binary_remote_addr zone=one:1m rate=1r/m;

    server {
        listen 127.0.0.1:$port;
        root ${\ $t->dir}/html;

        location = /ride {
            race_ingest;
            client_max_body_size 1k;
        }

        location /live/ {
            race_live;

            if (\$arg_fail = 404) { return 404; }
            if (\$arg_fail = 429) { return 429; }
            if (\$arg_fail = 500) { return 500; }
            if (\$arg_fail = 502) { return 502; }
            if (\$arg_fail = 503) { return 503; }
            if (\$arg_fail = 504) { return 504; }

            limit_except GET {
                deny all;
            }
        }

        location /live/limited/ {
            race_live;
            limit_req zone=one;
        }

        location = /api/auth/login {
            race_api;
            client_max_body_size 8k;
        }

        location /api/ {
            race_api;
            client_max_body_size 1m;
        }

        location /static/ {
        }
    }
EOF

my $json = JSON::PP->new;

# one request on its own connection: (status, {headers}, body)
sub http {
    my ($req) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or die "connect: $!\n";
    syswrite($s, $req) == length $req or die "write: $!\n";

    my $buf = '';
    my $end = time + 10;

    while (time < $end) {
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        last unless select($rin, undef, undef, $end - time);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;

        # the answer is whole: no need to wait for the server to close
        my $i = index($buf, "\r\n\r\n");
        next if $i < 0;
        my ($len) = substr($buf, 0, $i) =~ /\r\ncontent-length:\s*(\d+)/i;
        last if defined $len && length($buf) >= $i + 4 + $len;
    }

    close $s;

    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    return (0, {}, '') unless defined $head;
    my ($line, @lines) = split /\r\n/, $head;
    my %h = map { /^([^:]+):\s*(.*?)\s*$/ ? (lc $1 => $2) : () } @lines;
    my ($status) = $line =~ m{^HTTP/1\.1 (\d{3})};
    return ($status || 0, \%h, defined $body ? $body : '');
}

sub req {
    my ($method, $path, %a) = @_;
    my $r = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n";
    my @h = @{$a{headers} || []};
    while (my ($k, $v) = splice @h, 0, 2) {
        $r .= "$k: $v\r\n";
    }
    return "$r\r\n" . (defined $a{body} ? $a{body} : '');
}

# the shape, the type and the code; the message is returned
sub shape_ok {
    my ($name, $st, $h, $body, $status, $code) = @_;

    is($st, $status, "$name: $status");
    like($h->{'content-type'} || '', qr{^application/json$},
        "$name: application/json");
    my $d = eval { $json->decode($body) };
    ok(ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
        && defined $d->{error}{message}
        && keys %$d == 1 && keys %{$d->{error}} == 2,
        "$name: the error shape") or diag($body);
    is(ref $d eq 'HASH' && ref $d->{error} eq 'HASH' ? $d->{error}{code}
        : '', $code, "$name: code $code");
    is($h->{'content-length'}, length $body, "$name: its length");

    return ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
        ? $d->{error}{message} : '';
}

my $json_type = ['Content-Type' => 'application/json'];


# bodies over client_max_body_size: nginx refuses them before the
# module runs; the message names this location's limit

my @r = http(req(POST => '/api/auth/login', headers => [@$json_type,
    'Content-Length' => 9000], body => 'x' x 9000));
my $m = shape_ok('/api/auth/login, Content-Length over 8k', @r, 413,
    'too_large');
is($m, 'the body is over the limit of 8k', 'the message names 8k');

my $chunks = join('', map { sprintf("%x\r\n%s\r\n", 1000, 'x' x 1000) }
    1 .. 9) . "0\r\n\r\n";
@r = http(req(POST => '/api/auth/login', headers => [@$json_type,
    'Transfer-Encoding' => 'chunked'], body => $chunks));
$m = shape_ok('/api/auth/login, a chunked body over 8k', @r, 413,
    'too_large');
is($m, 'the body is over the limit of 8k', 'chunked: the message names 8k');

@r = http(req(GET => '/ride', headers => ['Content-Length' => 2048],
    body => 'y' x 2048));
$m = shape_ok('/ride, a body over 1k', @r, 413, 'too_large');
is($m, 'the body is over the limit of 1k', '/ride: the message names 1k');

@r = http(req(POST => '/api/auth/signup', headers => [@$json_type,
    'Content-Length' => 20000], body => 'z' x 20000));
$m = shape_ok('/api/auth/signup, over the API\'s own limit', @r, 413,
    'too_large');
is($m, 'the body is over the limit of 16k', 'the API\'s own limit: 16k');

$chunks = join('', map { sprintf("%x\r\n%s\r\n", 1000, 'x' x 1000) }
    1 .. 20) . "0\r\n\r\n";
@r = http(req(POST => '/api/auth/signup', headers => [@$json_type,
    'Transfer-Encoding' => 'chunked'], body => $chunks));
$m = shape_ok('/api/auth/signup, chunked over the API\'s own limit', @r, 413,
    'too_large');
is($m, 'the body is over the limit of 16k', 'chunked: 16k');


# malformed bodies

@r = http(req(POST => '/api/auth/signup', headers => [@$json_type,
    'Transfer-Encoding' => 'chunked'], body => "zz\r\nnot hex\r\n0\r\n\r\n"));
shape_ok('/api, a malformed chunked body', @r, 400, 'bad_request');


# what nginx answers itself in the locations: return, deny, limits

my %codes = (404 => 'not_found', 429 => 'too_many_requests',
    500 => 'internal', 502 => 'unavailable', 503 => 'unavailable',
    504 => 'timeout');

for my $status (sort keys %codes) {
    @r = http(req(GET => "/live/r1?fail=$status"));
    shape_ok("/live, return $status", @r, $status, $codes{$status});
}

@r = http(req(HEAD => '/live/r1?fail=503'));
is($r[0], 503, 'HEAD: 503');
like($r[1]{'content-type'} || '', qr{^application/json$},
    'HEAD: application/json');
is($r[2], '', 'HEAD: no body');

@r = http(req(POST => '/live/r1', headers => ['Content-Length' => 0]));
shape_ok('/live, limit_except deny', @r, 403, 'forbidden');

http(req(GET => '/live/limited/r1'));
@r = http(req(GET => '/live/limited/r1'));
shape_ok('/live, limit_req', @r, 503, 'unavailable');


# the module's own errors are untouched

@r = http(req(GET => '/api/nope'));
$m = shape_ok('/api, no such endpoint', @r, 404, 'not_found');
is($m, 'no such API endpoint', 'the module\'s own message');

@r = http(req(GET => '/ride'));
shape_ok('/ride, no token', @r, 401, 'missing_token');


# elsewhere nginx's pages stay

@r = http(req(GET => '/static/nothing'));
is($r[0], 404, 'a static 404 elsewhere');
like($r[1]{'content-type'} || '', qr{^text/html}, 'elsewhere: HTML');

@r = http(req(GET => '/static/index.html'));
is($r[0], 200, 'a static file');

$t->done;
