#!/usr/bin/perl

# Revoking a rider token, end to end: race-accounts records it in
# MongoDB and Redis, from its command line or a command on its Kafka
# topic; an open /ride socket with that token is closed with 1008 at
# once, and no new one opens (401 token_revoked).  When Redis comes back
# empty, /ride fails closed (503) until race-accounts has put every
# unexpired revocation back, then refuses the revoked token and lets a
# good one in again.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::RESP;
use Race::Token;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1);
my $port = $p->port;
my ($rport) = $p->{redis} =~ /:(\d+)$/;
my $json = JSON::PP->new->canonical;

my %rider = (secret => $p->secret, race => 'r1', rider => 'p1');

sub token { Race::Token::mint(%rider, @_) }

sub status {
    my ($tok) = @_;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
    $ws->disconnect;
    return ($res ? $res->{status} : 0, $res ? $res->{body} : '');
}

sub ride {
    my ($tok) = @_;
    return Race::WS->start(port => $port, path => '/ride',
        headers => ['Authorization' => "Bearer $tok"]);
}

# sends a fix, returns its ack (or undef)
my $seq = 0;
sub fix_acked {
    my ($ws) = @_;
    my $s = ++$seq;
    $ws->send_frame(Race::WS::TEXT, '{"type":"fix","seq":' . $s . ',"t":'
        . int(time * 1000) . ',"lat":45.07,"lon":7.68}');
    my $end = time + 30;
    while (time < $end) {
        my $f = $ws->read_frame($end - time) or last;
        last unless ref $f;
        return $f->{payload} if $f->{payload} =~ /"ack"/;
    }
    return undef;
}

sub revocation {
    my ($jti) = @_;
    my $bin = $t->build . '/t/mongo_query';
    my $out = `$bin $p->{mongo} $p->{db} revocations find '{"_id":"$jti"}'`;
    return $out =~ /^\{/ ? $json->decode($out) : undef;
}

sub revoke_cli {
    my (@args) = @_;
    my $argv = $p->accounts_argv('--revoke-rider-token', @args);
    my $out = `@$argv 2>&1`;
    return ($? >> 8, $out);
}

my $exp = int(time) + 3600;


# the command line: recorded, in Redis, and the open socket closed

my $good = token(jti => 'good-one');
my $cli = token(jti => 'by-cli', exp => $exp);

my $ws = ride($cli);
is(fix_acked($ws), '{"type":"ack","seq":1}', 'a ride with a good token');

my ($rc, $out) = revoke_cli('by-cli', '--until', $exp);
is($rc, 0, '--revoke-rider-token: exit 0') or diag($out);

my ($code, $reason) = $ws->read_close(10);
is($code, 1008, 'the open socket of that token: close 1008');
is($reason, 'token revoked', 'token revoked');

my $doc = revocation('by-cli') || {};
is($doc->{exp}, $exp, 'MongoDB: the revocation, with the exp');
ok(($doc->{created} // 0) > 1.7e12, 'and when it was made');
is(resp_command($rport, 'GET', 'race:revoked:by-cli'), $exp,
    'Redis: race:revoked:<jti>');
my $ttl = resp_command($rport, 'TTL', 'race:revoked:by-cli');
ok($ttl > 3600 && $ttl <= 3630, "expiring after exp and its leeway ($ttl)");

my ($st, $body) = status($cli);
is($st, 401, 'a new ride with it: 401');
like($body, qr/"code":"token_revoked"/, 'token_revoked');
is((status($good))[0], 101, 'another token still gets in');

($rc, $out) = revoke_cli('by-cli', '--until', $exp);
is($rc, 0, 'revoked again: harmless') or diag($out);
is(revocation('by-cli')->{exp}, $exp, 'one record, the same exp');

($rc, $out) = revoke_cli('bad:id', '--until', $exp);
is($rc, 2, 'a bad token id: exit 2');
like($out, qr/--revoke-rider-token: not a token id/, 'said');
($rc, $out) = revoke_cli('x', '--until', 'soon');
is($rc, 2, 'a bad exp: exit 2');
like($out, qr/--until: "soon" is not/, 'said');

# long expired: recorded, but nothing to refuse in Redis any more
($rc, $out) = revoke_cli('long-gone', '--until', int(time) - 600);
is($rc, 0, 'a token long expired: exit 0') or diag($out);
ok(revocation('long-gone'), 'recorded');
is(resp_command($rport, 'EXISTS', 'race:revoked:long-gone'), 0,
    'not in Redis');


# a command on the accounts topic, as the races API sends it

my $kafka_tok = token(jti => 'by-kafka', exp => $exp);
$ws = ride($kafka_tok);
is(fix_acked($ws), '{"type":"ack","seq":2}', 'another ride');

my $reply_ch = 'race:reply:revoke-test';
my $sub = resp_conn($rport);
resp_send($sub, 'SUBSCRIBE', $reply_ch);
resp_read($sub, time + 5);

my $cmd = $json->encode({ op => 'revoke', req => 'rv1', reply => $reply_ch,
    jti => 'by-kafka', exp => $exp });
my $produce = $t->build . '/t/kafka_produce';
open my $pipe, '|-', "$produce $p->{kafka} race.accounts"
    or die "kafka_produce: $!\n";
print $pipe "by-kafka\t$cmd\n";
close $pipe;
is($? >> 8, 0, 'the revoke command is produced');

my $msg = eval { resp_read($sub, time + 60) } || [];
is_deeply($json->decode($msg->[2] // '{}'),
    { req => 'rv1', ok => JSON::PP::true,
      revoked => { jti => 'by-kafka', exp => $exp } },
    'race-accounts replies on the channel the command named');

($code) = $ws->read_close(10);
is($code, 1008, 'the open socket of that token: close 1008');
is((status($kafka_tok))[0], 401, 'a new ride with it: 401');
is((revocation('by-kafka') || {})->{exp}, $exp, 'MongoDB has it');


# Redis comes back empty: fails closed until race-accounts reloads

$t->stop('accounts');
resp_command($rport, 'FLUSHALL');

is((status($good))[0], 503, 'Redis empty: a good token waits (503)');
is((status($cli))[0], 503, 'so does a revoked one');

my $log = $p->start_accounts;
ok(wait_for(sub { resp_command($rport, 'EXISTS',
    'race:revocations:loaded') }, 60, 0.1),
    'race-accounts loads the revocations again');

($st, $body) = status($cli);
is($st, 401, 'after the reload: the revoked token is refused');
like($body, qr/"code":"token_revoked"/, 'token_revoked');
is((status($kafka_tok))[0], 401, 'both revoked tokens');
is((status($good))[0], 101, 'and a good token gets in again');
is(resp_command($rport, 'EXISTS', 'race:revoked:long-gone'), 0,
    'the long expired one is not loaded');

ok(grep({ /loaded 2 revocations into redis/ }
    split /\n/, $t->read_file($log)), 'race-accounts says how many it loaded')
    or diag($t->read_file($log));

is($t->stop('accounts'), 0, 'race-accounts stops cleanly');

$t->done;
