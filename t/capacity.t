#!/usr/bin/perl

# tools/capacity: docs/CAPACITY.md's tables are what it prints for the
# committed bench output and prices; its arithmetic against figures
# worked out by hand from round inputs; a missing or bad figure, price
# or assumption is an error that names it.  No servers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

my $root = "$FindBin::Bin/..";
my $tool = "$root/tools/capacity";
my $dir = tempdir('ngx-race-capacity-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

sub run {
    my (@args) = @_;
    my $pid = open(my $fh, '-|');
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', "$dir/stderr" or die;
        exec 'python3', $tool, @args or die "exec: $!\n";
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;
    open my $e, '<', "$dir/stderr" or die;
    my $err = <$e> // '';
    return ($rc, $out, $err);
}

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die "$name: $!\n";
    print $fh $text;
    close $fh;
    return "$dir/$name";
}

# the doc's tables: exactly the script's output for the newest
# committed bench output

my @benches = sort glob("$root/docs/capacity/bench-*.txt");
ok(@benches, 'a bench output is committed') or BAIL_OUT('no bench output');
my ($newest) = $benches[-1] =~ m{([^/]+)$};

open my $doc, '<', "$root/docs/CAPACITY.md" or die "CAPACITY.md: $!\n";
my $md = do { local $/; <$doc> };
my ($table) = $md =~ /<!-- capacity:begin -->\n(.*?)<!-- capacity:end -->/s;
ok(defined $table, 'CAPACITY.md has the generated tables');

my ($rc, $out, $err) = run();
is($rc, 0, 'tools/capacity runs on the committed figures') or diag($err);
like($out, qr/from `\Q$newest\E`/, "it reads the newest, $newest");
is($table, $out, "CAPACITY.md's tables are what tools/capacity prints");

# README's headline: the cost table's head and its totals, as printed
my ($head) = $out =~ /^(\| Monthly cost \(USD\) .*\n\|[-:|]+\n)/m;
my ($totals) = $out =~ /^(\| \*\*Total a month\*\* .*\n)/m;
open my $readme, '<', "$root/README.md" or die "README.md: $!\n";
my $rd = do { local $/; <$readme> };
ok($head && $totals && index($rd, $head . $totals) >= 0,
    "README's totals are tools/capacity's")
    or diag("README.md should hold:\n" . ($head // '') . ($totals // ''));

($rc, $out) = run('--bench', $benches[-1]);
is($out, $table // '', '--bench names the same file');

# hand-worked figures: round inputs, round prices

my %fig = (
    'machine.cores' => 2,
    'cpu_per_fix.nginx' => 0.0001, 'cpu_per_fix.tracker' => 0.0001,
    'cpu_per_fix.kafka' => 0.0002, 'cpu_per_fix.mongo' => 0.0003,
    'cpu_per_fix.redis' => 0.00002,
    'rss.nginx_idle' => 16777216, 'rss.tracker' => 16777216,
    'redis.used_memory' => 1048576,
    'pipeline.races' => 20, 'pipeline.riders_per_race' => 50,
    'mongo.bson_per_fix' => 200, 'mongo.ferretdb_size_per_fix' => 600,
    'kafka.log_bytes_per_message' => 150, 'kafka.message_bytes' => 180,
    'kafka.fixes_per_message' => 1,
    'kafka.busiest_partition_messages_per_s' => 500,
    'kafka.busiest_partition_bytes_per_s' => 75000,
    'web.app_bytes_gzip' => 1000000,
    'spectators.tick_ms' => 250, 'spectators.state_bytes' => 100,
    'spectators.tick_overhead_bytes' => 60,
    'spectators.rss_per_idle' => 4096, 'spectators.rss_per_watching' => 8192,
    'spectators.cpu_per_frame' => 0.00001,
);

sub bench_text {
    my (%f) = @_;
    return "# a sample\n" . join('', map { "capacity $_=$f{$_} unit\n" }
        sort keys %f);
}

my $prices = {
    as_of => 'test', region => 'test',
    gke => {
        cluster_fee_per_hour => 0.1,
        machine_types => {
            'e2-standard-4' => { vcpu => 4, memory_gb => 16, per_hour => 0.1 },
            'e2-standard-2' => { vcpu => 2, memory_gb => 8, per_hour => 0.05 },
        },
    },
    persistent_disk => { 'pd-balanced_gb_month' => 0.1 },
    atlas => { storage_gb_month => 0.5, tiers => [
        { name => 'M10', per_hour => 0.1, vcpu => 2,
          burstable => JSON::PP::true, memory_gb => 2, storage_gb => 10,
          max_storage_gb => 128 },
        { name => 'M40', per_hour => 1, vcpu => 4,
          burstable => JSON::PP::false, memory_gb => 16, storage_gb => 80,
          max_storage_gb => 1024 },
        { name => 'M60', per_hour => 4, vcpu => 16,
          burstable => JSON::PP::false, memory_gb => 64, storage_gb => 320,
          max_storage_gb => 4096 },
    ] },
    memorystore => { tiers_gb_hour => {
        basic => [ { name => 'M1', min_gb => 1, max_gb => 4,
                     per_gb_hour => 0.05 } ],
        standard => [ { name => 'M1', min_gb => 1, max_gb => 4,
                        per_gb_hour => 0.1 } ],
    } },
    internet_egress => { egress_tiers_gb => [
        { up_to_gb => 1024, per_gb => 0.1 },
        { up_to_gb => undef, per_gb => 0.05 } ] },
    load_balancer => { forwarding_rule_per_hour => 0.01,
                       data_processed_per_gb => 0.01 },
};

my $bench = write_file('bench.txt', bench_text(%fig));
my $pfile = write_file('prices.json', encode_json($prices));

($rc, $out, $err) = run('--bench', $bench, '--prices', $pfile, '--json');
is($rc, 0, 'the sample computes') or diag($err);
my $j = eval { decode_json($out) } || {};
my $club = $j->{scenarios}{club_race} || {};
my $big = $j->{scenarios}{big_event} || {};
my $fed = $j->{scenarios}{federation_season} || {};

sub near {
    my ($got, $want, $name) = @_;
    ok(defined $got && abs($got - $want) <= 1e-6 * (abs($want) || 1), $name)
        or diag('got ' . ($got // 'undef') . ", want $want");
}

my $GIB = 1024 ** 3;

# a spectator of 50 riders at a fix a second: 50 states of 100 bytes a
# second, and 4 ticks (250 ms) of 60 bytes around them
near($club->{spectator_bytes_per_s}, 50 * 100 + 4 * 60,
    'club: bytes a second to a spectator');
near($club->{fixes_per_s}, 50, 'club: 50 fixes/s');
near($big->{fixes_per_s}, 5000, 'big event: 100 x 50 riders, 5,000 fixes/s');
near($big->{frames_per_s}, 100000 * 4, 'big event: 4 frames/s a spectator');

# /live egress: 500 spectators x 5,240 B/s x 3 h, in GiB; below the
# first tier's 1,024 GiB, at 0.1
my $club_gb = 500 * 5240 * 3 * 3600 / $GIB;
near($club->{live_egress_gb}, $club_gb, 'club: /live egress GB');
near($club->{cost}{live_egress}, $club_gb * 0.1, 'club: egress cost');

# the big event's is past the first tier: 1,024 GiB at 0.1, the rest at
# 0.05
my $big_gb = 100000 * 5240 * 6 * 3600 / $GIB;
near($big->{cost}{live_egress}, 1024 * 0.1 + ($big_gb - 1024) * 0.05,
    'big event: egress cost by tiers');

# the club's cluster: the minimum of 3 nodes all month, 0.1 an hour
is($club->{live_nodes}, 3, 'club: 3 nodes on race day');
is($club->{idle_nodes}, 3, 'club: 3 between races');
near($club->{cost}{gke_nodes}, 3 * 0.1 * 730, 'club: node cost');
near($club->{cost}{gke_cluster}, 0.1 * 730, 'cluster fee');

# Atlas: 50 fixes/s x 3 h x 12 months x (200 + 40 bytes), on a disk
# at most 60 % full, fits M10's own 10 GB
my $club_data = 50 * 3 * 3600 * 12 * 240 / $GIB;
near($club->{atlas_data_gb}, $club_data, 'club: Atlas data');
is($club->{atlas_tier}, 'M10', 'club: M10');
is($club->{atlas_disk_gb}, 10, 'club: its included disk');
near($club->{cost}{atlas}, 0.1 * 730, 'club: Atlas cost');

# the federation: 800 fixes/s x 16 h x 12 months x 240 bytes / 0.6 is
# 206 GB of disk, past M10's largest (128 GB): M40 with a custom disk,
# billed whole at 0.5 a GB-month, is cheaper than M60's included 320 GB
my $fed_disk = 800 * 16 * 3600 * 12 * 240 / $GIB / 0.6;
is($fed->{atlas_tier}, 'M40', 'federation: M40, not M60');
is($fed->{atlas_disk_gb}, int($fed_disk) + 1, 'federation: a custom disk');
near($fed->{cost}{atlas}, 1 * 730 + (int($fed_disk) + 1) * 0.5,
    'federation: the tier and the whole disk');

# 5,000 fixes/s: M10 writes 2 x 0.5 x 4,000 x 0.6 = 2,400/s, M40
# 4 x 4,000 x 0.6 = 9,600/s
is($big->{atlas_tier}, 'M40', 'big event: the write rate picks M40');

# ingress-nginx relays the same frames and fixes: 7.5 vCPU on its
# e2-standard-2 pool (2 - 0.07 reserved - 0.2 system = 1.73 each): 5
# nodes for the 6 live hours, 2 the rest of the month
near($big->{ingress_vcpu}, 7.5, 'big event: ingress-nginx vCPU');
is($big->{ingress_nodes}, 5, 'big event: 5 ingress nodes live');
near($big->{cost}{ingress_nodes}, 0.05 * (5 * 6 + 2 * (730 - 6)),
    'big event: ingress node cost');

# the L4 load balancer: its forwarding rule, and the fixes it takes in
near($club->{cost}{load_balancer},
    0.01 * 730 + 50 * 3 * 3600 * 180 / $GIB * 0.01, 'club: load balancer');

# the web client's files: 500 visits of 1 MB, internet egress too
near($club->{cost}{app_egress}, 500 * 1e6 / $GIB * 0.1,
    'club: web client egress');

# nginx at the big event: 5,000 fixes x 100 us + 400,000 frames x 10 us,
# over 0.6 = 7.5 vCPU, in pods of at most 2: 4 pods
my ($nginx) = grep { $_->{name} eq 'nginx' } @{$big->{pods} || []};
is($nginx->{replicas}, 4, 'big event: 4 nginx pods');
near($nginx->{cpu} * $nginx->{replicas}, (5000 * 0.0001 + 400000 * 0.00001)
    / 0.6, 'big event: nginx vCPU');

near($club->{cost}{memorystore}, 1 * 0.05 * 730, 'club: 1 GB basic');
near($big->{cost}{memorystore}, 1 * 0.1 * 730, 'big event: 1 GB standard');

# nodes are bin-packed: five pods of 1.9 vCPU (2 nginx, 3 brokers) need
# five 3.72-vCPU nodes, one each, though their sum would fit in three
($rc, $out) = run('--bench', $bench, '--prices', $pfile, '--json',
    '--set', 'nginx_min_cpu_per_pod=1.9', '--set', 'kafka_broker_cpu_min=1.9');
$j = eval { decode_json($out) } || {};
is($j->{scenarios}{club_race}{live_nodes}, 5,
    'club: 5 nodes when no two big pods share one');

# a tier also needs the cache for a race day's _id index: 50 x 3 h x
# 40 bytes / 0.6 is 0.034 GB, more than 1 % of M10's 2 GB
($rc, $out) = run('--bench', $bench, '--prices', $pfile, '--json',
    '--set', 'atlas_cache_share=0.01', '--scenario', 'club_race');
$j = eval { decode_json($out) } || {};
is($j->{scenarios}{club_race}{atlas_tier}, 'M40',
    'club: the index cache picks the tier');

# an assumption changed: half the spectators
($rc, $out) = run('--bench', $bench, '--prices', $pfile, '--json',
    '--set', 'club_race.spectators=250');
$j = eval { decode_json($out) } || {};
near($j->{scenarios}{club_race}{live_egress_gb}, $club_gb / 2,
    '--set club_race.spectators=250 halves the egress');

# bad input: each error names what is wrong

my %less = %fig;
delete $less{'spectators.cpu_per_frame'};
($rc, $out, $err) = run('--bench', write_file('less.txt', bench_text(%less)),
    '--prices', $pfile);
is($rc, 1, 'a missing figure: exit 1');
like($err, qr/lacks spectators\.cpu_per_frame/, 'it names the figure');
is($out, '', 'and prints no table');

($rc, $out, $err) = run('--bench', write_file('na.txt',
    bench_text(%fig, 'mongo.bson_per_fix' => 'NA')), '--prices', $pfile);
is($rc, 1, 'a figure the bench could not measure (NA): exit 1');
like($err, qr/lacks mongo\.bson_per_fix/, 'it names the figure');

($rc, $out, $err) = run('--bench', write_file('bad.txt',
    bench_text(%fig, 'kafka.message_bytes' => '12x')), '--prices', $pfile);
is($rc, 1, 'a figure that is no number: exit 1');
like($err, qr/kafka\.message_bytes is not a number/, 'it names it');

my %p = %$prices;
delete $p{atlas};
($rc, $out, $err) = run('--bench', $bench, '--prices',
    write_file('p.json', encode_json(\%p)));
is($rc, 1, 'a missing price: exit 1');
like($err, qr/prices: atlas\.tiers is missing/, 'it names the price');

($rc, $out, $err) = run('--bench', $bench, '--prices',
    write_file('p2.json', '{"as_of":'));
is($rc, 1, 'prices that are not JSON: exit 1');
like($err, qr/not JSON/, 'it says so');

($rc, $out, $err) = run('--bench', "$dir/none.txt", '--prices', $pfile);
is($rc, 1, 'no bench output: exit 1');
like($err, qr/none\.txt/, 'it names the file');

($rc, $out, $err) = run('--bench', $bench, '--prices', $pfile,
    '--set', 'nosuch=1');
is($rc, 1, 'an unknown assumption: exit 1');
like($err, qr/--set nosuch: no such assumption/, 'it names it');

($rc, $out, $err) = run('--bench', $bench, '--prices', $pfile,
    '--set', 'target_utilisation=0');
is($rc, 1, 'a zero utilisation: exit 1');
like($err, qr/target_utilisation: out of range/, 'it says so');

($rc, $out, $err) = run('--bench', $bench, '--prices', $pfile,
    '--set', 'federation_season.retention_months=1000');
is($rc, 1, 'storage past every Atlas tier: exit 1');
like($err, qr/no Atlas tier/, 'it says so');

done_testing();
