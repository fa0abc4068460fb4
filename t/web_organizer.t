#!/usr/bin/perl

# The organizer's pages, in Debian's chromium against the real stack:
# an organizer logs in, makes a race from t/web/loop.gpx through the
# file input (the preview shows its length over the laps), adds a
# checkpoint, enters three riders (a taken bib says so) and reads their
# join links and QR codes, starts the race; race-sim rides the riders
# with the tokens of those links; the race's page opens; a private
# race's spectator link is made and revoked; the race is finished.
# Screenshots: organize-new-1280, manage-1280, manage-360.

use strict;
use warnings;

use lib 't/lib';
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Test::More;
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Web;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, Race::Web::platform($t));
my $port = $p->port;
my $base = "http://127.0.0.1:$port";
my $ua = HTTP::Tiny->new(timeout => 30);

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "$base$path", %a);
}

# the claims of a JWT, unchecked (the server checked it)
sub claims {
    my ($jwt) = @_;
    my $part = (split /\./, $jwt // '')[1] // '';
    $part =~ tr{-_}{+/};
    $part .= '=' x (-length($part) % 4);
    return eval { decode_json(decode_base64($part)) } || {};
}

my ($admin, $org) = Race::Web::organizer($t, $p, \&call);
my $who = { email => $org->{email}, password => $org->{password} };


###############################################################################
# the browser makes the race, its riders, and starts it

my $r = Race::Web::browser($t, 'organizer.mjs', {
    base => $base, phase => 'create', organizer => $who,
    gpx => $t->root . '/t/web/loop.gpx',
});

my $race = $r->{race} // '';
my @tokens = @{$r->{tokens} || []};
$t->secret(@tokens);
like($race, qr/^\w+$/, 'the browser made a race');
is(scalar @tokens, 3, 'and read three join links');

my ($st, $d) = call(GET => "/api/races/$race", token => $org->{token});
is($st, 200, 'the race through the API');
is($d->{race}{status} // '', 'live', 'it is live');
is(scalar @{$d->{race}{riders} || []}, 3, 'with three riders');
is($d->{race}{course}{laps} // 0, 3, 'three laps');
is_deeply([map { $_->{name} } @{$d->{race}{course}{checkpoints} || []}],
    ['Lap 1'], 'the checkpoint');
my %bib = map { $_->{id} => $_->{bib} } @{$d->{race}{riders} || []};
is(join(',', sort values %bib), '1,2,3', 'bibs 1, 2, 3 (the taken one '
    . 'was not entered)');


###############################################################################
# race-sim rides the riders with the links' tokens

my @lines;
for my $tok (@tokens) {
    my $c = claims($tok);
    ok($bib{$c->{sub} // ''}, 'a join link is the token of a rider')
        or diag(explain($c));
    push @lines, join(' ', $race, $c->{sub} // 'none', $tok);
}
my $file = $t->write_file('riders', join("\n", @lines) . "\n");

$p->sim_start('ride', '--url', "ws://127.0.0.1:$port/ride",
    '--tokens', $file, '--course', $t->root . '/t/web/loop.gpx',
    '--laps', 3, '--speed', 12, '--speed-spread', 0.3, '--duration', 40);

$r = Race::Web::browser($t, 'organizer.mjs', {
    base => $base, phase => 'watch', race => $race,
    names => ['Ann Rider', 'Ben Rider', 'Cid Rider'],
});

my $rep = $p->sim_wait('ride', 90);
ok(($rep->{acked} // 0) >= 3 * 10, 'race-sim: the riders\' fixes were '
    . 'acked (' . ($rep->{acked} // 0) . ')') or diag(explain($rep));
is($rep->{unacked} // -1, 0, 'none left unacked');
is($rep->{rejected} // -1, 0, 'none rejected');


###############################################################################
# a private race's spectator link; the first race finished

($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Riservata', start_at => now_ms() + 86_400_000,
        public => JSON::PP::false,
        course => $t->read_file($t->root . '/t/web/loop.gpx') });
is($st, 201, 'a private race');
my $private = $d->{race}{id} // '';

my $fan = Race::Util::api_signup(\&call, 'Fan');

$r = Race::Web::browser($t, 'organizer.mjs', {
    base => $base, phase => 'finish', organizer => $who,
    spectator => { email => $fan->{email}, password => $fan->{password} },
    race => $race, private => $private,
});
my $share = $r->{share} // '';
my ($access) = $share =~ /#access=([^&]+)/;
$t->secret($access);
ok($access, 'the spectator link carries its token');
($st, $d) = call(GET => "/api/races/$private", token => $access);
like($st, qr/^40[14]$/, 'the revoked link opens nothing')
    or diag(explain($d));

($st, $d) = call(GET => "/api/races/$race", token => $org->{token});
is($d->{race}{status} // '', 'finished', 'the race is finished');

$t->done;
