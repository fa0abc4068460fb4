#!/usr/bin/perl

# The live race page in Debian's chromium against the real stack: an
# organizer makes a race of two laps of t/web/loop.gpx with a checkpoint
# and five riders, starts it; race-sim rides four of them, started a few
# seconds apart at one speed, and a fifth, twice as fast, once the
# leader is 200 m out, so it passes them while the page watches (the
# pack's order as she starts is read here, on /live: the page need not
# see her last).  A private race says why it is not live without a
# spectator link, and is live with one.
# The page at 1280 and 360 px: the map draws the course and a marker a
# rider, the riders move, the standings reorder with the ranks sorted,
# following a rider, a favourite kept over a reload, the connection said
# ("Live"; "Reconnecting" when the socket is cut, then "Live" again), a
# scheduled race's countdown and an unknown race's live view.
# Screenshots live-1280 and live-360.

use strict;
use warnings;

use lib 't/lib';
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time);
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::Web;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, Race::Web::platform($t));
my $port = $p->port;
my $ua = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new->canonical;

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "http://127.0.0.1:$port$path", %a);
}

my ($admin, $org) = Race::Web::organizer($t, $p, \&call);
my $gpx_file = $t->root . '/t/web/loop.gpx';
my $gpx = $t->read_file($gpx_file);

my ($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Giro del Parco', start_at => now_ms() + 60_000,
        public => JSON::PP::true, course => $gpx, laps => 2,
        checkpoints => [ { name => 'Top', dist_m => 300 } ] });
is($st, 201, 'a race of 2 laps with a checkpoint') or diag($json->encode($d));
my $race = $d->{race}{id} || 'none';

# an upcoming race, for the countdown
($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Notturna', start_at => now_ms() + 7_200_000,
        public => JSON::PP::true, course => $gpx });
is($st, 201, 'an upcoming race');
my $upcoming = $d->{race}{id} || 'none';

# a private race, live: watched with a spectator link only, even by its
# organizer, whose session opens the API but not /live
($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Cortile Privato', start_at => now_ms() + 60_000,
        public => JSON::PP::false, course => $gpx });
is($st, 201, 'a private race') or diag($json->encode($d));
my $priv = $d->{race}{id} || 'none';
($st, $d) = call(POST => "/api/races/$priv/start", token => $org->{token},
    json => {});
is("$st " . ($d->{race}{status} // ''), '200 live', 'the private race is live');
($st, $d) = call(POST => "/api/races/$priv/links", token => $org->{token},
    json => {});
is($st, 201, 'a spectator link of the private race') or diag($json->encode($d));
my $link = $d->{token} // '';

# the pack rides in this order, the fast one last
my @RIDERS = ([Ann => 1], [Bob => 2], [Cy => 3], [Dee => 4], [Eve => 5]);
my (@pack, $fast);
for my $r (@RIDERS) {
    ($st, $d) = call(POST => "/api/races/$race/riders",
        token => $org->{token}, json => { name => $r->[0], bib => "$r->[1]" });
    is($st, 201, "$r->[0] entered") or diag($json->encode($d));
    my $line = "$race $d->{rider}{id} $d->{token}\n";
    if ($r->[0] eq 'Eve') {
        $fast = $line;
    } else {
        push @pack, $line;
    }
}
my $pack_file = $t->write_file('pack.tokens', join '', @pack);
my $fast_file = $t->write_file('fast.tokens', $fast);

($st, $d) = call(POST => "/api/races/$race/start", token => $org->{token},
    json => {});
is("$st " . ($d->{race}{status} // ''), '200 live', 'the race is live');

my @SIM = ('--url', "ws://127.0.0.1:$port/ride", '--course', $gpx_file,
    '--laps', 2, '--speed-spread', 0, '--noise', 3);

# a rider every 3 s at 8 m/s: 24 m apart
$p->sim_start('pack', @SIM, '--tokens', $pack_file, '--speed', 8,
    '--ramp-ms', 3000, '--seed', 1);

# the leader's distance as a spectator sees it
my $live = Race::WS->start(port => $port, path => "/live/$race");
my %dist;
my $end = time + 90;
while (time < $end) {
    my $f = $live->read_frame(0.5);
    next unless defined $f;
    last unless ref $f;
    if ($f->{opcode} == Race::WS::PING) {
        $live->send_frame(Race::WS::PONG, $f->{payload});
        next;
    }
    next unless $f->{opcode} == Race::WS::TEXT;
    my $m = eval { $json->decode($f->{payload}) } or next;
    for my $s (@{$m->{riders} || []}) {
        $dist{$s->{rider}} = $s->{dist_m} if defined $s->{dist_m};
    }
    last if grep { $_ >= 200 } values %dist;
}
ok((grep { $_ >= 200 } values %dist), 'the pack leader is 200 m out')
    or diag($json->encode(\%dist));
$live->disconnect;

# the pack's order as Eve starts, last first: she starts behind them all
($st, $d) = call(GET => "/api/races/$race");
my %bib_of = map { $_->{id} => $_->{bib} } @{ $d->{race}{riders} || [] };
my @order = grep { defined } map { $bib_of{$_} }
    sort { $dist{$a} <=> $dist{$b} } keys %dist;
is(scalar @order, 4, 'the four of the pack ride, ahead of Eve: '
    . join(' ', reverse @order)) or diag($json->encode(\%dist));

# Eve at 16 m/s catches the last of the pack in about 16 s, the leader
# in about 25 s
$p->sim_start('fast', @SIM, '--tokens', $fast_file, '--speed', 16,
    '--seed', 2);

my $r = Race::Web::browser($t, 'live.mjs', {
    base => "http://127.0.0.1:$port",
    race => $race,
    upcoming => $upcoming,
    fast => '5',
    behind => $order[0] // '4',
    private => { race => $priv, token => $link },
    organizer => { email => $org->{email}, password => $org->{password} },
});

$t->stop('sim-fast');
$t->stop('sim-pack');

$t->done;
