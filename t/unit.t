#!/usr/bin/perl

# Every C unit test program, each as a subtest: t/unit/NAME_test.c,
# built by t/Makefile.  core_* test a pure core (core/race_*.c),
# workers_* the workers' own code.  Each program prints TAP; every one
# of its assertions becomes one here, and the program must print its
# plan, meet it and exit 0 (a sanitizer report makes it exit non-zero).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my @units = (
    # the RFC 6455 codec: frames, masks, UTF-8, close payloads, handshake
    'core_ws',
    # HS256 JWT: verifying, signing, key files
    'core_jwt',
    # base64, both alphabets: RFC 4648's vectors, the decoder's refusals
    'core_base64',
    # the id and Kafka topic-name rules at their edges
    'core_id',
    # a phone's fix messages and the Kafka message written from them
    'core_fix_phone',
    # the Kafka message read back by the workers, a fix's _id, JSON
    # numbers, ids, and the writer's output parsed back
    'core_fix_kafka',
    # argon2id hashing and verifying, the dummy hash, the policy and the
    # common-password list, the shipped conf/common-passwords.txt too
    'core_password',
    # emails, names, roles, user ids, the signup, login and role bodies
    'core_account',
    # race-accounts' command parser and reply builder, byte for byte,
    # never with the hash
    'core_accounts_cmd',
    # the workers' table-driven settings: defaults, files and --set
    'workers_conf',
    # the workers' MongoDB store keeps its bson_t where libbson wants
    # them (128-byte aligned)
    'workers_store_mongo',
);

my $build = Race::Test->build;

# where core_password_test finds conf/common-passwords.txt
local $ENV{RACE_ROOT} = Race::Test->root;

for my $unit (@units) {
    my $bin = "$build/t/${unit}_test";
    -x $bin or die "$bin is missing: run ./build.sh test\n";

    subtest $unit => sub {
        my ($plan, $n, $failed) = (undef, 0, 0);

        # stdout is the TAP; stderr, a sanitizer's report, goes through
        open(my $fh, '-|', $bin) or die "exec $bin: $!\n";

        while (my $line = <$fh>) {
            chomp $line;

            if ($line =~ /^(not )?ok \d+(?: - (.*))?$/) {
                my ($not, $name) = ($1, $2 // '');

                # Test::More takes a name of digits for a number
                $name = "\"$name\"" if $name =~ /^[\d\s]*$/;

                $n++;
                $failed = !ok(!defined $not, $name);

            } elsif ($line =~ /^1\.\.(\d+)$/) {
                $plan = $1;

            } elsif ($line =~ /^#\s?(.*)$/) {
                # what a program says after a failure is why
                $failed ? diag($1) : note($1);

            } else {
                note($line);
            }
        }

        close($fh);
        my $status = $?;

        ok(defined $plan && $plan == $n,
            "$unit: ran its plan of " . ($plan // '?') . " ($n ran)");
        ok($status == 0, "$unit: exited with 0 (status $status)");
    };
}

done_testing();
