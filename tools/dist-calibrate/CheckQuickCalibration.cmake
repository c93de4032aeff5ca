#===- CheckQuickCalibration.cmake - dist-calibrate --quick on 1 and 2 ranks -===#
#
# cmake -DCALIBRATE=<dist-calibrate> -DMPIRUN=<mpirun> -DOUT=<dir> -P this
#
# Runs the calibration briefly on one rank and under mpirun on two, and
# checks that each written profile parses with the cluster reader and holds
# what the run measured; then that bad use fails with a message. Whether
# the machine is fast or slow decides nothing.
#
#===------------------------------------------------------------------------===#

set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

function(run_expect expected_rc output_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(expected_rc STREQUAL "0" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "'${ARGN}' failed (${rc}):\n${out}\n${err}")
  elseif(NOT expected_rc STREQUAL "0" AND rc EQUAL 0)
    message(FATAL_ERROR "'${ARGN}' should have failed:\n${out}\n${err}")
  endif()
  set(${output_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect_match text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "expected to match '${regex}':\n${text}")
  endif()
endfunction()

# One rank: kernels only; the link keeps its defaults and says so.
run_expect(0 out ${CALIBRATE} -o ${OUT}/one.yaml --quick --kernel-threads 1)
file(READ ${OUT}/one.yaml profile)
expect_match("${profile}" "The link was not measured")
run_expect(0 out ${CALIBRATE} --verify ${OUT}/one.yaml)
expect_match("${out}" "cluster 'cpu-calibrated': 1 devices, 1 nodes, 1 sites")
expect_match("${out}" "device 'cpu-rank': peak [0-9.e+-]+ TFLOP/s")

# Two ranks: kernels on rank 0, collectives on both; rank 0 writes.
run_expect(0 out ${MPIRUN} --oversubscribe -np 2 ${CALIBRATE}
           -o ${OUT}/two.yaml --quick --kernel-threads 1 --name two-ranks)
file(READ ${OUT}/two.yaml profile)
expect_match("${profile}" "MPI collectives on 2 ranks")
run_expect(0 out ${CALIBRATE} --verify ${OUT}/two.yaml)
expect_match("${out}" "cluster 'two-ranks': 2 devices, 1 nodes, 1 sites")
file(GLOB leftovers ${OUT}/*.tmp*)
if(leftovers)
  message(FATAL_ERROR "temporary files left behind: ${leftovers}")
endif()

# The profile is what the cpu preset reads through DISTOPT_CPU_PROFILE.
set(ENV{DISTOPT_CPU_PROFILE} ${OUT}/two.yaml)
run_expect(0 out ${CALIBRATE} --compare cpu --quick --kernel-threads 1)
expect_match("${out}" "ops: median \\|relative error\\|")
unset(ENV{DISTOPT_CPU_PROFILE})

# Bad use: no mode, a profile that does not parse, an unwritable output.
run_expect(2 out ${CALIBRATE})
expect_match("${out}" "give exactly one of")
file(WRITE ${OUT}/bad.yaml "name: x\ndevice_types:\n  - name: c\n    peak_tflop: 1\n")
run_expect(1 out ${CALIBRATE} --verify ${OUT}/bad.yaml)
expect_match("${out}" "bad.yaml:4:5: unknown key 'peak_tflop' in device type \\(did you mean 'peak_tflops'\\?\\)")
set(ENV{DISTOPT_CPU_PROFILE} ${OUT}/bad.yaml)
run_expect(1 out ${CALIBRATE} --compare cpu --quick)
expect_match("${out}" "DISTOPT_CPU_PROFILE: .*bad.yaml:4:5: unknown key")
unset(ENV{DISTOPT_CPU_PROFILE})
run_expect(1 out ${CALIBRATE} -o ${OUT}/no/such/dir/p.yaml --quick)
expect_match("${out}" "cannot write")
