#!/usr/bin/perl

# A whole race through the real pipeline: an organizer creates it from a
# GPX loop of 240 m raced in 2 laps, enters four riders and starts
# it; race-sim rides them with the tokens the API made (one fast, one
# behind a phone in dead zones that sends its fixes in batches, one
# slower, one whose phone goes dark in its first lap); a spectator on
# /live sees the standings in the ticks (distance, rank, gaps, finished);
# the organizer finishes the race; then the results as JSON and CSV and
# each rider's track as GPX agree with each other, with the fixes stored
# in MongoDB and with what race-sim says really happened; then the dark
# phone's backlog, sent after the finish, makes its rider a finisher in
# the results.  nginx, Kafka, race-accounts, race-tracker, FerretDB and
# Redis are all real, on loopback.

use strict;
use warnings;

use lib 't/lib';
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::Util;
use Race::Platform;
use Race::WS;

my $t = Race::Test->new;
my $p = Race::Platform->start($t, accounts => 1, tick_ms => 200);
my $port = $p->port;
my $json = JSON::PP->new->canonical;
my $ua = HTTP::Tiny->new(timeout => 30);

# tolerances, on fixes up to 3 m off the course taken once a second
my $NOISE_M = 3;
my $TOL_S = 3;      # finish and split times against the truth, seconds
my $TOL_M = 30;     # course distances against the truth, metres

sub call {
    my ($method, $path, %a) = @_;
    return api_call($ua, $method, "http://127.0.0.1:$port$path", %a);
}

sub signup { api_signup(\&call, @_) }
sub login { api_login(\&call, @_) }

sub near {
    my ($got, $want, $tol, $name) = @_;
    ok(defined $got && defined $want && abs($got - $want) <= $tol, $name)
        or diag('got ' . ($got // 'undef') . ', want ' . ($want // 'undef'));
}


###############################################################################
# an admin makes Olga an organizer; Rita will ride with her account

my $admin_pw = 'admin pass phrase ' . int(rand(1e9));
my $pwfile = $t->write_file('admin.pw', "$admin_pw\n");
chmod 0600, $pwfile;
my $argv = $p->accounts_argv('--create-admin', 'boss@example.org',
    '--name', 'Boss', '--password-file', $pwfile);
my $out = `@$argv 2>&1`;
is($? >> 8, 0, 'race-accounts --create-admin') or diag($out);
my $admin = { email => 'boss@example.org', password => $admin_pw };
$admin->{token} = login($admin);

my $org = signup('Olga');
my ($st, $d, $res) = call(POST => "/api/admin/users/$org->{id}/role",
    token => $admin->{token}, json => { role => 'organizer' });
is($st, 200, 'the admin makes Olga an organizer');
$org->{token} = login($org);

my $rita = signup('Rita');


###############################################################################
# the course: a rectangle of 75 x 45 m whose ends meet, raced twice

my $M_PER_DEG = 6371008.8 * 3.14159265358979 / 180;
my $COS = cos(45 * 3.14159265358979 / 180);
my ($LAT0, $LON0) = (45, 7.6);
my ($DLAT, $DLON) = (75 / $M_PER_DEG, 45 / ($M_PER_DEG * $COS));
my @CORNERS = ([$LAT0, $LON0], [$LAT0 + $DLAT, $LON0],
    [$LAT0 + $DLAT, $LON0 + $DLON], [$LAT0, $LON0 + $DLON], [$LAT0, $LON0]);
my $LAPS = 2;
my $CP = 240;       # a checkpoint at the end of lap 1

sub gpx_course {
    my $x = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
        . qq{<gpx version="1.1" creator="race_full.t" }
        . qq{xmlns="http://www.topografix.com/GPX/1/1">}
        . "<trk><name>Ring</name><trkseg>\n";
    $x .= sprintf(qq{<trkpt lat="%.7f" lon="%.7f"><ele>250.0</ele>}
        . "</trkpt>\n", @$_) for @CORNERS;
    return $x . "</trkseg></trk></gpx>\n";
}

# where the course is dist metres from the start, laps unrolled
sub course_at {
    my ($dist, $lap) = @_;
    $dist -= $lap while $dist >= $lap;
    for my $i (0 .. $#CORNERS - 1) {
        my ($a, $b) = @CORNERS[$i, $i + 1];
        my $dy = ($b->[0] - $a->[0]) * $M_PER_DEG;
        my $dx = ($b->[1] - $a->[1]) * $M_PER_DEG * $COS;
        my $len = sqrt($dx * $dx + $dy * $dy);
        if ($dist <= $len || $i == $#CORNERS - 1) {
            my $f = $len > 0 ? $dist / $len : 0;
            $f = 1 if $f > 1;
            return ($a->[0] + ($b->[0] - $a->[0]) * $f,
                $a->[1] + ($b->[1] - $a->[1]) * $f);
        }
        $dist -= $len;
    }
}

my $course_file = $t->write_file('ring.gpx', gpx_course());

($st, $d) = call(POST => '/api/races', token => $org->{token},
    json => { name => 'Ring of Test', start_at => now_ms() + 3_600_000,
        public => JSON::PP::true, laps => $LAPS, course => gpx_course(),
        checkpoints => [ { name => "Lap 1", dist_m => $CP } ] });
is($st, 201, 'Olga creates a race of 2 laps from a GPX loop')
    or diag($json->encode($d));
my $race = $d->{race}{id} || 'none';
my $LAP = $d->{race}{course}{lap_length_m} || 240;
my $LEN = $d->{race}{course}{length_m} || 480;
near($LAP, 240, 1, "a lap of 240 m ($LAP)");
near($LEN, 2 * $LAP, 0.5, "the course: 2 laps ($LEN m)");

# four riders: Ann fast, Bob in dead zones, Cy slower, Dee goes dark
my %RIDER = (
    Ann => { bib => 1, speed => 21, user => $rita->{id} },
    Bob => { bib => 2, speed => 15, sim => ['--batch-every', 6,
        '--live-fixes', 3] },
    Cy  => { bib => 3, speed => 12 },
    Dee => { bib => 4, speed => 18, sim => ['--fixes', 15] },
);
my @NAMES = sort keys %RIDER;
my %by_id;

for my $name (@NAMES) {
    my $r = $RIDER{$name};
    ($st, $d) = call(POST => "/api/races/$race/riders", token => $org->{token},
        json => { name => $name, bib => "$r->{bib}",
            $r->{user} ? (user_id => $r->{user}) : () });
    is($st, 201, "$name entered") or diag($json->encode($d));
    $r->{id} = $d->{rider}{id} || $name;
    $r->{token} = $d->{token} || '';
    $r->{name} = $name;
    $by_id{$r->{id}} = $r;
    $t->write_file("tokens.$name", "$race $r->{id} $r->{token}\n");
}


###############################################################################
# a spectator on /live from before the start, keeping each rider's
# latest state

my $live = Race::WS->start(port => $port, path => "/live/$race");
my (%state, %history, %fields, %finished_tick);
my ($snapshots, $ticks, $live_eof) = (0, 0, 0);

sub spectate {
    my ($secs, $until) = @_;
    my $end = time + $secs;

    while (time < $end && !$live_eof) {
        return 1 if $until && $until->();
        my $f = $live->read_frame(0.2);
        next unless defined $f;
        if (!ref $f) {
            $live_eof = 1;
            last;
        }

        if ($f->{opcode} == Race::WS::PING) {
            $live->send_frame(Race::WS::PONG, $f->{payload});
            next;
        }
        next unless $f->{opcode} == Race::WS::TEXT;

        my $m = eval { $json->decode($f->{payload}) } or next;
        $snapshots++ if ($m->{type} // '') eq 'snapshot';
        $ticks++ if ($m->{type} // '') eq 'tick';

        for my $s (@{$m->{riders} || []}) {
            my $id = $s->{rider} // next;
            $state{$id} = $s;
            push @{$history{$id}}, $s;
            $fields{$id}{$_}++ for grep { defined $s->{$_} } keys %$s;
            $finished_tick{$id} ||= $s
                if ($s->{status} // '') eq 'finished';
        }
    }

    return $until ? $until->() : 1;
}

ok(spectate(10, sub { $snapshots }), 'the spectator gets a snapshot');

($st, $d) = call(POST => "/api/races/$race/start", token => $org->{token},
    json => {});
is("$st " . ($d->{race}{status} // ''), '200 live', 'Olga starts the race');
my $started_at = $d->{race}{started_at} // 0;


###############################################################################
# race-sim rides them, a process a rider: each at its own speed

for my $name (@NAMES) {
    my $r = $RIDER{$name};
    $p->sim_start($name, '--url', "ws://127.0.0.1:$port/ride",
        '--tokens', $t->dir . "/tokens.$name",
        '--course', $course_file, '--laps', $LAPS,
        '--speed', $r->{speed}, '--speed-spread', 0, '--noise', $NOISE_M,
        '--seed', $r->{bib}, '--truth', $t->dir . "/truth.$name.json",
        @{$r->{sim} || []});
}

my @FINISHERS = qw(Ann Bob Cy);

sub sims_running {
    return grep { $t->running("sim-$_") } @NAMES;
}

ok(spectate(120, sub { !sims_running()
        && !grep { !$finished_tick{$RIDER{$_}{id}} } @FINISHERS }),
    'the riders rode to the line, the spectator saw them finish')
    or diag(explain(\%state));

my %truth;
for my $name (@NAMES) {
    my $rep = $p->sim_wait($name, 30);
    my $r = $RIDER{$name};
    is($rep->{unacked} // -1, 0, "race-sim $name: every fix acked")
        or diag(explain($rep));
    my $file = $t->dir . "/truth.$name.json";
    my $tr = -e $file ? $json->decode($t->read_file($file)) : {};
    ($truth{$name}) = grep { $_->{rider} eq $r->{id} }
        @{$tr->{riders} || []};
    $truth{$name} ||= { fixes => [] };
    $r->{sent} = $truth{$name}{sent} // scalar @{$truth{$name}{fixes}};
}

# the true time each rider crossed a distance, from race-sim's fixes
sub truth_at {
    my ($name, $dist) = @_;
    my $prev;
    for my $f (@{$truth{$name}{fixes}}) {
        if ($f->[2] >= $dist) {
            return $f->[1] unless $prev && $f->[2] > $prev->[2];
            return $prev->[1] + ($f->[1] - $prev->[1])
                * ($dist - $prev->[2]) / ($f->[2] - $prev->[2]);
        }
        $prev = $f;
    }
    return undef;
}

my %finish;
$finish{$_} = $truth{$_}{finish} for @FINISHERS;
ok(($truth{Dee}{distance_m} // $LEN) < $LAP,
    'Dee went dark in its first lap (truth)');
my @order = sort { $finish{$a} <=> $finish{$b} } @FINISHERS;
is_deeply(\@order, [qw(Ann Bob Cy)], 'the truth: Ann, Bob, Cy');


###############################################################################
# what the spectator saw

for my $name (@NAMES) {
    my $id = $RIDER{$name}{id};
    ok(!grep({ !$fields{$id}{$_} } qw(dist_m rank gap_s status speed_mps)),
        "$name: ticks had dist_m, rank, gap_s, status, speed_mps")
        or diag(explain($fields{$id}));
    is($state{$id}{bib}, "$RIDER{$name}{bib}", "$name: and the bib");
}

for my $i (0 .. $#order) {
    my $s = $finished_tick{$RIDER{$order[$i]}{id}} || {};
    is($s->{rank}, $i + 1, "live: $order[$i] finished ranked " . ($i + 1));
    near(defined $s->{finish_s} ? $started_at + $s->{finish_s} * 1000 : undef,
        $finish{$order[$i]}, $TOL_S * 1000,
        "live: $order[$i]'s finish time within $TOL_S s of the truth");
    near(defined $s->{splits}[0] ? $started_at + $s->{splits}[0] * 1000
        : undef, truth_at($order[$i], $CP), $TOL_S * 1000,
        "live: $order[$i]'s split at the lap within $TOL_S s of the truth");
}

# Bob's dead zones: a tick brought several fixes of his at once
my @bseq = map { $_->{seq} } @{$history{$RIDER{Bob}{id}} || []};
my $jump = 0;
for (1 .. $#bseq) {
    $jump = $bseq[$_] - $bseq[$_ - 1] if $bseq[$_] - $bseq[$_ - 1] > $jump;
}
cmp_ok($jump, '>=', 3, "live: Bob's fixes came in batches (up to $jump)");

my $dee = $state{$RIDER{Dee}{id}} || {};
isnt($dee->{status} // '', 'finished', 'live: Dee not finished');
near($dee->{dist_m}, $truth{Dee}{distance_m}, $TOL_M,
    "live: Dee where its last fix was (within $TOL_M m)");
is($dee->{rank}, 4, 'live: Dee last, behind the finishers')
    or diag($json->encode($history{$RIDER{Dee}{id}}));
near($state{$RIDER{Cy}{id}}{gap_s}, ($finish{Cy} - $finish{Ann}) / 1000,
    $TOL_S, "live: Cy's gap to the winner at the line (within $TOL_S s)");


###############################################################################
# every fix stored; the organizer finishes the race: results

my $sent = 0;
$sent += $RIDER{$_}{sent} for @NAMES;
ok(wait_for(sub { $p->mongo_count(qq{{"race":"$race"}}) eq $sent }, 30),
    "MongoDB has the $sent fixes race-sim sent")
    or diag($p->mongo_count(qq{{"race":"$race"}}));

($st, $d) = call(POST => "/api/races/$race/finish", token => $org->{token},
    json => {});
is("$st " . ($d->{race}{status} // ''), '200 finished',
    'Olga finishes the race');
my $finished_at = $d->{race}{finished_at} // 0;

sub results {
    my ($st, $d) = call(GET => "/api/races/$race/results");
    return $st == 200 && ref $d eq 'HASH' ? $d : undef;
}

my $r1;
ok(wait_for(sub { $r1 = results() }, 30), 'GET results: 200, the results')
    or diag(explain([call(GET => "/api/races/$race/results")]));
$r1 ||= { riders => [] };

sub csv_rows {
    my ($st, $d, $res) = call(GET => "/api/races/$race/results.csv");
    is($st, 200, 'GET results.csv: 200');
    like($res->{headers}{'content-type'} // '', qr{^text/csv},
        'as text/csv');
    my @lines = split /\r\n/, $res->{content} // '';
    my @head = split /,/, shift(@lines) // '';
    return map { my %h; @h{@head} = split /,/, $_, -1; \%h } @lines;
}

# the fixes of a rider in MongoDB, by t
sub stored {
    my ($id) = @_;
    my @docs = map { $json->decode($_) } grep { /^\{/ }
        split /\n/, $p->mongo('find',
            $json->encode({ race => $race, rider => $id }));
    return sort { $a->{t} <=> $b->{t} || $a->{seq} <=> $b->{seq} } @docs;
}

sub iso_ms {
    my ($iso) = @_;
    my ($y, $mo, $dd, $h, $mi, $s, $frac) = $iso =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$/ or return -1;
    local $ENV{TZ} = 'UTC';
    POSIX::tzset();
    my $e = POSIX::mktime($s, $mi, $h, $dd, $mo - 1, $y - 1900);
    return $e * 1000 + int(($frac // 0) * 1000 + 0.5);
}

my $xmllint = (grep { -x } map { "$_/xmllint" } split /:/, $ENV{PATH})[0];
my $xsd = $t->root . '/t/gpx/gpx11_track.xsd';

# the results as JSON, CSV and GPX agree with each other and MongoDB
sub agree {
    my ($doc, $what) = @_;

    my @rows = csv_rows();
    is(scalar @rows, scalar @{$doc->{riders}},
        "$what: a CSV row a rider of the JSON");
    for my $i (0 .. $#{$doc->{riders}}) {
        my ($row, $rj) = ($rows[$i] || {}, $doc->{riders}[$i]);
        ok(($row->{rider} // '') eq $rj->{rider}
            && ($row->{rank} // 0) == $rj->{rank}
            && ($row->{status} // '') eq $rj->{status}
            && ($row->{name} // '') eq $rj->{name}
            && (defined $rj->{finish_s}
                ? ($row->{finish_s} // '') ne ''
                    && abs($row->{finish_s} - $rj->{finish_s}) < 0.001
                : ($row->{finish_s} // '') eq '')
            && abs(($row->{dist_m} || 0) - $rj->{dist_m}) < 0.1,
            "$what: the CSV agrees on $rj->{name}")
            or diag(explain([$row, $rj]));
    }

    for my $rj (@{$doc->{riders}}) {
        my @fixes = stored($rj->{rider});
        my ($st, undef, $res) = call(GET =>
            "/api/races/$race/riders/$rj->{rider}/track.gpx");
        my $gpx = $res->{content} // '';
        is($st, 200, "$what: GET $rj->{name}'s track.gpx: 200");
        my @times = map { iso_ms($_) }
            $gpx =~ m{<trkpt\b[^>]*>.*?<time>([^<]+)</time>}gs;
        is(scalar(() = $gpx =~ /<trkpt\b/g), scalar @fixes,
            "$what: a trkpt a stored fix of $rj->{name} ("
            . scalar(@fixes) . ')');
        is_deeply(\@times, [map { $_->{t} } @fixes],
            "$what: at the stored fixes' times, to the ms");
        my @lat = $gpx =~ m{<trkpt\b[^>]*\blat="([-0-9.]+)"}g;
        ok(!grep({ abs($lat[$_] - $fixes[$_]{lat}) > 1e-7 } 0 .. $#lat),
            "$what: and places");

        if ($xmllint) {
            my $file = $t->write_file("track.$rj->{rider}.gpx", $gpx);
            my $out = `$xmllint --noout --schema $xsd $file 2>&1`;
            is($? >> 8, 0, "$what: $rj->{name}'s GPX is valid GPX 1.1")
                or diag($out);
        }
    }
}

# the results against the truth
sub truthful {
    my ($doc, $what, @finishers) = @_;

    my %res = map { $by_id{$_->{rider}}{name} => $_ } @{$doc->{riders}};
    my @want = sort { $finish{$a} <=> $finish{$b} } @finishers;
    is_deeply([map { $by_id{$_->{rider}}{name} } @{$doc->{riders}}],
        [@want, grep { my $n = $_; !grep { $_ eq $n } @want } @NAMES],
        "$what: ranked as they crossed the line: @want");
    is($doc->{summary}{starters}, 4, "$what: 4 starters");
    is($doc->{summary}{finishers}, scalar @want,
        "$what: " . scalar(@want) . ' finishers');
    is($doc->{summary}{start}, $started_at, "$what: from the start");

    my $off = 0;
    for my $i (0 .. $#want) {
        my $rj = $res{$want[$i]} || {};
        my $d = abs(($doc->{summary}{start} // 0)
            + ($rj->{finish_s} // 0) * 1000 - $finish{$want[$i]}) / 1000;
        $off = $d if $d > $off;
        is("$rj->{rank} $rj->{status}", ($i + 1) . ' finished',
            "$what: $want[$i] finished, rank " . ($i + 1));
        near(defined $rj->{finish_s}
                ? $doc->{summary}{start} + $rj->{finish_s} * 1000 : undef,
            $finish{$want[$i]}, $TOL_S * 1000,
            "$what: $want[$i]'s time within $TOL_S s of the truth");
        near(defined $rj->{splits}[0]
                ? $doc->{summary}{start} + $rj->{splits}[0] * 1000 : undef,
            truth_at($want[$i], $CP), $TOL_S * 1000,
            "$what: $want[$i]'s split at the lap within $TOL_S s");
        near($rj->{dist_m}, $LEN, 1, "$what: $want[$i] rode it all");
    }
    note(sprintf('%s: finish times off the truth by %.3f s at most',
        $what, $off));
}

agree($r1, 'at the finish');
truthful($r1, 'at the finish', @FINISHERS);

my %res1 = map { $by_id{$_->{rider}}{name} => $_ } @{$r1->{riders}};
is($res1{Dee}{status}, 'dnf', 'Dee, short of the line, is dnf');
near($res1{Dee}{dist_m}, $truth{Dee}{distance_m}, $TOL_M,
    "at its last fix's distance (within $TOL_M m)");


###############################################################################
# Dee's phone comes back after the finish: the fixes it kept in the
# dark, taken before the finish, go up as one backlog

my ($seq, $ft, $fd) = @{$truth{Dee}{fixes}[-1] || [0, now_ms() - 60_000, 0]};
my $speed = $RIDER{Dee}{speed};
my @backlog;
while ($fd < $LEN + 3 * $speed) {
    ($seq, $ft, $fd) = ($seq + 1, $ft + 1000, $fd + $speed);
    my ($lat, $lon) = course_at($fd, $LAP);
    push @backlog, { seq => $seq, t => $ft, lat => 0 + sprintf('%.7f', $lat),
        lon => 0 + sprintf('%.7f', $lon), spd => $speed };
    push @{$truth{Dee}{fixes}}, [$seq, $ft, $fd];
}
$finish{Dee} = truth_at('Dee', $LEN);
ok($backlog[-1]{t} < $finished_at, 'its backlog was taken before the finish')
    or diag("last fix at $backlog[-1]{t}, finished at $finished_at");

my $ws = eval { Race::WS->start(port => $port, path => '/ride',
    headers => ['Authorization' => "Bearer $RIDER{Dee}{token}"]) };
ok($ws, '/ride takes Dee within the grace after the finish') or diag($@);
if ($ws) {
    $ws->send_frame(Race::WS::TEXT,
        $json->encode({ type => 'fixes', items => \@backlog }));
    my $ack = read_until($ws, qr/"ack"|"error"/, 30) // '';
    is($ack, qq({"type":"ack","seq":$backlog[-1]{seq}}),
        'the backlog acked with its last seq');
    $ws->disconnect;
}

my $r2;
ok($r1->{computed} && wait_for(sub { $r2 = results();
        $r2 && $r2->{computed} != $r1->{computed} }, 45),
    'the late fixes make the results be computed again');
$r2 ||= { riders => [] };

agree($r2, 'after the backlog');
truthful($r2, 'after the backlog', @FINISHERS, 'Dee');

my %res2 = map { $by_id{$_->{rider}}{name} => $_ } @{$r2->{riders}};
is($res2{Ann}{finish_s}, $res1{Ann}{finish_s}, "Ann's time unchanged");

# Rita rode as Ann: her results are Ann's row
($st, $d) = call(GET => '/api/me/results', token => $rita->{token});
is($st, 200, 'GET /api/me/results: 200');
my ($mine) = grep { ($_->{race}{id} // '') eq $race } @{$d->{races} || []};
is($mine && $mine->{rider}{id}, $RIDER{Ann}{id}, "Rita's has the race, "
    . 'as Ann');
is_deeply($mine && $mine->{result}, $res2{Ann}, 'with her row of the results');

$live->disconnect;

$t->done;
